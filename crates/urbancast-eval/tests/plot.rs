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
