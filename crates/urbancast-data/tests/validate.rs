//! `validate()` of the data crate's settings: defaults pass, every out-of-range key is an error
//! naming it, and the generators refuse bad settings instead of changing them.
use urbancast_data::graph::{GraphProtocol, SyntheticGraphConfig, synthetic_sensor_graph};
use urbancast_data::prep::Protocol;
use urbancast_data::synthetic::{SyntheticConfig, generate, preset};

fn err<E: std::fmt::Display>(r: Result<(), E>) -> String {
    r.err().map(|e| e.to_string()).unwrap_or_else(|| "no error".into())
}

#[test]
fn protocol_defaults_pass_and_bad_keys_are_named() {
    let d = Protocol::default();
    d.validate().unwrap();
    let cases = [
        (Protocol { lags: 0, ..d.clone() }, "protocol.lags must be at least 1 (got 0)"),
        (Protocol { percentile: -0.5, ..d.clone() }, "protocol.percentile must lie in (0, 1] (got -0.5)"),
        (Protocol { percentile: 1.5, ..d.clone() }, "protocol.percentile must lie in (0, 1] (got 1.5)"),
        (Protocol { percentile: f64::NAN, ..d.clone() }, "protocol.percentile must be a finite number in (0, 1] (got NaN)"),
        (Protocol { source_train_frac: 1.0, ..d.clone() }, "protocol.source_train_frac must lie in (0, 1) (got 1)"),
        (Protocol { source_train_frac: 0.0, ..d.clone() }, "protocol.source_train_frac must lie in (0, 1) (got 0)"),
        (Protocol { test_days: 0, ..d.clone() }, "protocol.test_days must be at least 1 (got 0)"),
        (Protocol { val_days: 0, ..d.clone() }, "protocol.val_days must be at least 1 (got 0)"),
        (Protocol { short_test_frac: 0.0, ..d.clone() }, "protocol.short_test_frac must lie in (0, 1) (got 0)"),
        (Protocol { short_val_frac: 1.0, ..d.clone() }, "protocol.short_val_frac must lie in (0, 1) (got 1)"),
        (
            Protocol { short_test_frac: 0.6, short_val_frac: 0.5, ..d.clone() },
            "protocol.short_val_frac plus short_test_frac must be below 1",
        ),
    ];
    for (p, want) in cases {
        let e = err(p.validate_at("protocol."));
        assert!(e.starts_with(want), "{e}");
    }
    assert_eq!(err(Protocol { lags: 0, ..d }.validate()), "lags must be at least 1 (got 0)");
}

#[test]
fn graph_protocol_defaults_pass_and_bad_keys_are_named() {
    let d = GraphProtocol::default();
    d.validate().unwrap();
    GraphProtocol::default().with_split("100/0/0").unwrap().validate().unwrap();
    let cases = [
        (GraphProtocol { input_len: 0, ..d.clone() }, "input_len must be at least 1 (got 0)"),
        (GraphProtocol { horizon: 0, ..d.clone() }, "horizon must be at least 1 (got 0)"),
        (GraphProtocol { train_frac: 0.0, ..d.clone() }, "train_frac must lie in (0, 1] (got 0)"),
        (GraphProtocol { val_frac: -0.1, ..d.clone() }, "val_frac must lie in [0, 1) (got -0.1)"),
        (GraphProtocol { train_frac: 0.9, val_frac: 0.2, ..d.clone() }, "val_frac plus train_frac must be at most 1"),
        (GraphProtocol { targets: vec![], ..d.clone() }, "targets must name at least one feature"),
    ];
    for (p, want) in cases {
        let e = err(p.validate());
        assert!(e.starts_with(want), "{e}");
    }
}

#[test]
fn synthetic_graph_refuses_what_it_used_to_change() {
    SyntheticGraphConfig::default().validate().unwrap();
    let d = SyntheticGraphConfig { nodes: 5, days: 1, ..Default::default() };
    assert!(synthetic_sensor_graph(&d).is_ok());
    let cases = [
        (SyntheticGraphConfig { nodes: 0, ..d.clone() }, "synthetic graph: nodes must be at least 1 (got 0)"),
        (SyntheticGraphConfig { days: 0, ..d.clone() }, "synthetic graph: days must be at least 1 (got 0)"),
        (SyntheticGraphConfig { interval_min: 7, ..d.clone() }, "synthetic graph: interval_min must divide a day of 1440 minutes (got 7)"),
        (SyntheticGraphConfig { interval_min: 0, ..d.clone() }, "synthetic graph: interval_min must divide a day of 1440 minutes (got 0)"),
    ];
    for (c, want) in cases {
        assert_eq!(err(c.validate()), want);
        assert_eq!(synthetic_sensor_graph(&c).unwrap_err().to_string(), want);
    }
}

#[test]
fn synthetic_city_errors_name_the_city_and_the_key() {
    let d = preset("metro", 1).unwrap();
    d.validate().unwrap();
    let cases = [
        (SyntheticConfig { days: 0, ..d.clone() }, "spec `metro`: days must be at least 1 (got 0)"),
        (SyntheticConfig { height: 0, ..d.clone() }, "spec `metro`: height must be at least 1 (got 0)"),
        (SyntheticConfig { interval_min: 7, ..d.clone() }, "spec `metro`: interval_min must divide a day of 1440 minutes (got 7)"),
        (SyntheticConfig { noise: -1.0, ..d.clone() }, "spec `metro`: noise must lie in [0, 5] (got -1)"),
        (SyntheticConfig { start_hour_of_week: 168, ..d.clone() }, "spec `metro`: start_hour_of_week must lie in [0, 168) (got 168)"),
        (SyntheticConfig { type_mix: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0], ..d.clone() }, "spec `metro`: type_mix must give some land type"),
        (
            SyntheticConfig { type_mix: [-1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0], ..d.clone() },
            "spec `metro`: type_mix[0] (residential) must be at least 0 (got -1)",
        ),
        (SyntheticConfig { days: 100_000, ..d.clone() }, "spec `metro`: days x height"),
    ];
    for (c, want) in cases {
        let e = generate(&c).unwrap_err().to_string();
        assert!(e.starts_with(want), "{e}");
    }
}
