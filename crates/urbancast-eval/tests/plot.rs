//! Error maps are written for every layout, in PNG and SVG, and bad paths are errors.
use urbancast_eval::plot::{MapLayout, region_map};

#[test]
fn maps_are_written_for_every_layout() {
    let dir = tempfile::tempdir().unwrap();
    let values = vec![1.0, 2.0, f64::NAN, 4.0, 5.0, 6.0];
    let layouts = [
        MapLayout::Grid { height: 2, width: 3 },
        MapLayout::Points(vec![(0.0, 0.0), (1.0, 0.5), (2.0, 1.0), (0.5, 2.0), (1.5, 1.5), (2.0, 0.0)]),
        MapLayout::Tiles,
    ];
    for (i, l) in layouts.iter().enumerate() {
        let png = dir.path().join(format!("m{i}.png"));
        region_map(&png, "test", l, &values).unwrap();
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        let svg = dir.path().join(format!("m{i}.svg"));
        region_map(&svg, "test", l, &values).unwrap();
        assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    }
    let e = region_map(&dir.path().join("m.gif"), "t", &layouts[0], &values).unwrap_err().to_string();
    assert!(e.contains(".png or .svg"), "{e}");
    // All-NaN values (no active region) still draw.
    region_map(&dir.path().join("nan.png"), "t", &layouts[0], &[f64::NAN; 6]).unwrap();
}

#[test]
fn panels_sit_side_by_side() {
    use urbancast_eval::plot::{Panel, region_maps};
    let dir = tempfile::tempdir().unwrap();
    let rho = [1.2e-13, 1.6e-13, f64::NAN, 0.8e-13];
    let w = [0.9, 0.7, f64::NAN, 1.4];
    let p = dir.path().join("two.png");
    let out = std::env::var("URBANCAST_PLOT_SAMPLE").ok();
    let p = out.map(std::path::PathBuf::from).unwrap_or(p);
    let panels = [Panel { title: "density", label: "rho", values: &rho }, Panel { title: "weight", label: "omega", values: &w }];
    region_maps(&p, &MapLayout::Grid { height: 2, width: 2 }, &panels).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    assert_eq!(width, 1800, "two 900-pixel panels");
}
