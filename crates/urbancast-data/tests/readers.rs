//! Tests of the format readers: on the real files in `../shared/data` when present (skipped with
//! a message otherwise), and on small files written here, including every error path.
use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::{Array, Array1, Array2, Array3, Array4, ArrayD, Axis, IxDyn, ShapeBuilder, s};
use ndarray_npy::{WriteNpyExt, write_npy};
use urbancast_data::readers::*;
use urbancast_data::{Channel, City, DataError, Layout};

// ---------------------------------------------------------------- helpers

/// `../shared/data` seen from the crate, or `None` (with a message) when absent.
fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/data not found");
        None
    }
}

fn npy_bytes<T: WriteNpyExt>(a: &T) -> Vec<u8> {
    let mut v = Vec::new();
    a.write_npy(&mut v).unwrap();
    v
}

/// Writes a zip archive (an `.npz`) from raw members.
fn write_zip(path: &Path, members: &[(&str, Vec<u8>)]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in members {
        z.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
}

/// A `.npy` member holding a pickled object, like MetaST's `config.npy` (never to be read).
fn pickle_member() -> Vec<u8> {
    let header = "{'descr': '|O', 'fortran_order': False, 'shape': (), }";
    let mut h = header.to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((h.len() as u16).to_le_bytes());
    v.extend(h.as_bytes());
    v.extend(b"\x80\x04\x95\x10\x00\x00\x00cos\nsystem\n(S'rm -rf /'\ntR."); // never executed
    v
}

/// A deterministic count array: distinct small integers.
fn counts(shape: &[usize]) -> ArrayD<f64> {
    let n: usize = shape.iter().product();
    Array::from_shape_vec(IxDyn(shape), (0..n).map(|i| ((i * 7919) % 97) as f64 + 1.0).collect()).unwrap()
}

fn msg<T: std::fmt::Debug>(r: urbancast_data::Result<T>) -> String {
    let e = r.expect_err("expected an error");
    e.to_string()
}

/// Total of one channel, summed in f64 (f32 sums drift above 2^24).
fn channel_sum(c: &City, ch: usize) -> f64 {
    c.flow.index_axis(Axis(2), ch).iter().map(|&v| v as f64).sum()
}

fn max(c: &City) -> f32 {
    c.flow.iter().copied().fold(f32::MIN, f32::max)
}

// ---------------------------------------------------------------- real files

#[test]
fn real_metast_boston() {
    let Some(d) = shared() else { return };
    let c = read_metast(d.join("grid/boston-taxi/boston.npz")).unwrap();
    assert_eq!(c.flow.dim(), (745, 18 * 15, 2));
    assert_eq!(c.layout, Layout::Grid { height: 18, width: 15 });
    assert_eq!(c.channels, vec![Channel::Pickup, Channel::Dropoff]);
    assert_eq!((c.interval_min, c.name.as_str()), (60, "boston"));
    assert_eq!(max(&c), 359.0);
    // The maximum is at step 480, lng cell 9, lat cell 10 (checked with an independent parser).
    assert_eq!(c.flow[[480, 9 * 15 + 10, 0]], 359.0);
    assert_eq!(c.flow.index_axis(Axis(2), 0), c.flow.index_axis(Axis(2), 1), "the release's channels are identical");
    assert_eq!(channel_sum(&c, 0), 680204.0);
    // The archive's pickled config.npy is refused when asked for, never unpickled.
    let e = msg(read_npz_array(d.join("grid/boston-taxi/boston.npz"), "config"));
    assert!(e.contains("unsupported dtype `|O`"), "{e}");
}

#[test]
fn real_stdn() {
    let Some(d) = shared() else { return };
    let c = read_stdn(d.join("grid/nyc-stdn-taxi/volume_test.npz")).unwrap();
    assert_eq!(c.flow.dim(), (960, 200, 2));
    assert_eq!(c.layout, Layout::Grid { height: 10, width: 20 });
    assert_eq!(c.interval_min, 30);
    assert_eq!(max(&c), 1289.0);
    assert_eq!(c.flow[[447, 4 * 20 + 6, 1]], 1289.0, "max is a drop-off at step 447, cell (4, 6)");
    assert_eq!(c.flow.slice(s![10, 3 * 20 + 4, ..]).to_vec(), vec![42.0, 27.0]);
    assert_eq!(channel_sum(&c, 0), 7848008.0); // pick-ups
    assert_eq!(channel_sum(&c, 1), 7848354.0); // drop-offs
}

#[test]
fn real_stssl() {
    let Some(d) = shared() else { return };
    let d = d.join("grid/nyc-stssl");
    // NYCBike1: offsets -73..=0 (with gaps) and +1; val 431 + test 864 windows:
    // 431 + 864 windows + 73 steps of history before the first anchor + 1 target step.
    let c = read_stssl_auto(d.join("NYCBike1")).unwrap();
    assert_eq!(c.flow.dim(), (431 + 864 + 73 + 1, 128, 2));
    assert_eq!((c.layout.clone(), c.interval_min), (Layout::Grid { height: 16, width: 8 }, 60));
    assert_eq!(c.channels, vec![Channel::Dropoff, Channel::Pickup]);
    assert_eq!(c.name, "NYCBike1");
    assert_eq!(channel_sum(&c, 0), 1799405.0); // inflow
    assert_eq!(channel_sum(&c, 1), 1799333.0); // outflow
    assert_eq!(max(&c), 239.0);
    assert_eq!(c.flow.slice(s![0, 0..3, ..]).iter().copied().collect::<Vec<_>>(), vec![0.0, 0.0, 0.0, 0.0, 1.0, 2.0]);
    // The explicit form agrees.
    let e = read_stssl(d.join("NYCBike1"), 16, 8, 60).unwrap();
    assert_eq!(e.flow, c.flow);

    let b2 = read_stssl_auto(d.join("NYCBike2")).unwrap();
    assert_eq!(b2.flow.dim(), (274 + 546 + 147 + 1, 200, 2));
    assert_eq!((b2.layout.clone(), b2.interval_min), (Layout::Grid { height: 10, width: 20 }, 30));
    assert_eq!(max(&b2), 307.0);
    let taxi = read_stssl_auto(d.join("NYCTaxi")).unwrap(); // val.npz only
    assert_eq!(taxi.flow.dim(), (274 + 147 + 1, 200, 2));
    assert_eq!(max(&taxi), 1270.0);
    assert_eq!(taxi.flow.slice(s![0, 0..3, ..]).iter().copied().collect::<Vec<_>>(), vec![82.0, 62.0, 164.0, 112.0, 12.0, 29.0]);

    let e = msg(read_stssl(d.join("NYCBike1"), 10, 20, 60));
    assert!(e.contains("val.npz") && e.contains("128 regions") && e.contains("10x20"), "{e}");
}

#[test]
fn real_nyc69() {
    let Some(d) = shared() else { return };
    let d = d.join("zones/nyc-manhattan-69");
    let taxi = read_nyc69(&d, "taxi").unwrap();
    assert_eq!(taxi.flow.dim(), (17544, 69, 2));
    assert_eq!(taxi.channels, vec![Channel::Dropoff, Channel::Pickup]);
    assert_eq!((taxi.interval_min, taxi.start_hour_of_week), (60, Some(24)));
    assert_eq!(max(&taxi), 2267.0);
    assert_eq!(taxi.flow.slice(s![100, 10, ..]).to_vec(), vec![70.0, 95.0]);
    let Layout::Graph { adjacency, coords } = &taxi.layout else { panic!("graph layout expected") };
    assert_eq!(adjacency.dim(), (69, 69));
    assert_eq!(adjacency, &adjacency.t());
    assert_eq!(adjacency.sum(), 332.0);
    assert!(coords.is_none());

    let bike = read_nyc69(&d, "bike").unwrap();
    assert_eq!(bike.flow.dim(), (17544, 69, 2));
    assert_eq!(channel_sum(&bike, 0), 30840222.0);
    // The 30-minute bike files sum exactly to the hourly one.
    let half = read_nyc69_interval(&d, "Bike", 30).unwrap();
    assert_eq!(half.flow.dim(), (35088, 69, 2));
    assert_eq!(half.resample(60).unwrap().flow, bike.flow);
    assert_eq!(half.hour_of_week(0), Some(24));
}

// ---------------------------------------------------------------- MetaST / STDN on small files

#[test]
fn metast_small_files_and_dtypes() {
    let dir = tempfile::tempdir().unwrap();
    let a = counts(&[5, 3, 4, 2]);
    let f64p = dir.path().join("city.npz");
    write_zip(&f64p, &[("config.npy", pickle_member()), ("traffic.npy", npy_bytes(&a))]);
    let c = read_metast(&f64p).unwrap();
    assert_eq!(c.flow.dim(), (5, 12, 2));
    assert_eq!(c.layout, Layout::Grid { height: 3, width: 4 });
    assert_eq!(c.name, "city");
    for ((t, i, j, ch), v) in a.clone().into_dimensionality::<ndarray::Ix4>().unwrap().indexed_iter() {
        assert_eq!(c.flow[[t, i * 4 + j, ch]], *v as f32);
    }
    // float32 and int64 give the same city.
    let p32 = dir.path().join("f32.npz");
    write_zip(&p32, &[("traffic.npy", npy_bytes(&a.mapv(|v| v as f32)))]);
    assert_eq!(read_metast(&p32).unwrap().flow, c.flow);
    let pi = dir.path().join("i64.npz");
    write_zip(&pi, &[("traffic.npy", npy_bytes(&a.mapv(|v| v as i64)))]);
    assert_eq!(read_metast(&pi).unwrap().flow, c.flow);
    // A Fortran-ordered file is read in logical order.
    let pf = dir.path().join("fortran.npz");
    write_zip(&pf, &[("traffic.npy", npy_bytes(&fortran(&a)))]);
    assert_eq!(read_metast(&pf).unwrap().flow, c.flow);
}

/// The same logical array stored in column-major (Fortran) order, as some real files are.
fn fortran<D: ndarray::Dimension>(a: &Array<f64, D>) -> Array<f64, D> {
    let mut f = Array::zeros(a.raw_dim().f());
    f.assign(a);
    assert!(!f.is_standard_layout());
    f
}

#[test]
fn stdn_small_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("volume_train.npz");
    let a = counts(&[4, 2, 3, 2]).mapv(|v| v as i32);
    write_zip(&p, &[("volume.npy", npy_bytes(&a))]);
    let c = read_stdn(&p).unwrap();
    assert_eq!((c.flow.dim(), c.interval_min), ((4, 6, 2), 30));
    assert_eq!(c.flow[[3, 5, 1]], a[[3, 1, 2, 1]] as f32);
    assert_eq!(c.channels, vec![Channel::Pickup, Channel::Dropoff]);
}

// ---------------------------------------------------------------- common errors

#[test]
fn error_missing_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nope.npz");
    let e = read_metast(&p).unwrap_err();
    assert!(matches!(e, DataError::Io { .. }) && e.to_string().contains("nope.npz"), "{e}");

    let p = dir.path().join("other.npz");
    write_zip(&p, &[("flow.npy", npy_bytes(&counts(&[2, 2, 2, 2]))), ("config.npy", pickle_member())]);
    let e = read_metast(&p).unwrap_err();
    assert!(matches!(e, DataError::MissingKey { .. }), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("other.npz") && e.contains("`traffic`") && e.contains("config, flow"), "{e}");
    assert_eq!(npz_keys(&p).unwrap(), vec!["flow", "config"]);

    let txt = dir.path().join("text.npz");
    std::fs::write(&txt, "hello").unwrap();
    assert!(msg(read_stdn(&txt)).contains("not a readable .npz"));
}

#[test]
fn error_wrong_rank_and_shape() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("flat.npz");
    write_zip(&p, &[("traffic.npy", npy_bytes(&counts(&[5, 12, 2])))]);
    let e = read_metast(&p).unwrap_err();
    assert!(matches!(&e, DataError::Shape { found, .. } if found == &vec![5, 12, 2]), "{e:?}");
    assert!(e.to_string().contains("(T, lng, lat, 2)"), "{e}");
    let p = dir.path().join("three.npz");
    write_zip(&p, &[("volume.npy", npy_bytes(&counts(&[5, 2, 2, 3])))]);
    assert!(msg(read_stdn(&p)).contains("found shape [5, 2, 2, 3]"));
    let p = dir.path().join("empty.npz");
    write_zip(&p, &[("volume.npy", npy_bytes(&Array4::<f64>::zeros((0, 2, 2, 2))))]);
    assert!(msg(read_stdn(&p)).contains("expected a non-empty array, found shape [0, 2, 2, 2]"));
}

#[test]
fn error_bad_values_name_file_step_region() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = counts(&[4, 2, 3, 2]);
    a[[2, 1, 0, 1]] = f64::NAN; // region 1 * 3 + 0 = 3
    let p = dir.path().join("nan.npz");
    write_zip(&p, &[("traffic.npy", npy_bytes(&a))]);
    let e = read_metast(&p).unwrap_err();
    assert!(matches!(e, DataError::Format { .. }), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("nan.npz") && e.contains("step 2, region 3, channel 1") && e.contains("non-finite"), "{e}");

    let mut a = counts(&[4, 2, 3, 2]);
    a[[1, 0, 2, 0]] = -3.0;
    let p = dir.path().join("neg.npz");
    write_zip(&p, &[("traffic.npy", npy_bytes(&a))]);
    let e = msg(read_metast(&p));
    assert!(e.contains("neg.npz") && e.contains("negative count -3 at step 1, region 2, channel 0"), "{e}");

    let p = dir.path().join("zero.npz");
    write_zip(&p, &[("traffic.npy", npy_bytes(&Array4::<f64>::zeros((3, 2, 2, 2))))]);
    let e = msg(read_metast(&p));
    assert!(e.contains("zero.npz") && e.contains("no active region"), "{e}");
}

#[test]
fn error_corrupt_npy() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = npy_bytes(&counts(&[2, 2, 2, 2]));
    bytes.truncate(bytes.len() - 8);
    let p = dir.path().join("short.npz");
    write_zip(&p, &[("traffic.npy", bytes)]);
    let e = msg(read_metast(&p));
    assert!(e.contains("short.npz") && e.contains("needs 128 bytes of data but 120"), "{e}");
    let p = dir.path().join("bad.npy");
    std::fs::write(&p, b"not numpy at all").unwrap();
    assert!(msg(read_npy_array(&p)).contains("bad magic"));
    let p = dir.path().join("obj.npy");
    std::fs::write(&p, pickle_member()).unwrap();
    assert!(msg(read_npy_array(&p)).contains("never unpickled"));
}

// ---------------------------------------------------------------- ST-SSL on small files

/// Writes one ST-SSL split holding windows anchored at `anchors` over `series [T, R, 2]`.
fn write_split(path: &Path, series: &Array3<f64>, anchors: &[usize], xo: &[i64], yo: &[i64]) {
    let (_, r, c) = series.dim();
    let mut x = Array4::<f64>::zeros((anchors.len(), xo.len(), r, c));
    let mut y = Array4::<f64>::zeros((anchors.len(), yo.len(), r, c));
    for (i, &a) in anchors.iter().enumerate() {
        for (k, &o) in xo.iter().enumerate() {
            x.slice_mut(s![i, k, .., ..]).assign(&series.slice(s![(a as i64 + o) as usize, .., ..]));
        }
        for (k, &o) in yo.iter().enumerate() {
            y.slice_mut(s![i, k, .., ..]).assign(&series.slice(s![(a as i64 + o) as usize, .., ..]));
        }
    }
    let col = |o: &[i64]| Array2::from_shape_vec((o.len(), 1), o.to_vec()).unwrap();
    write_zip(
        path,
        &[
            ("x.npy", npy_bytes(&x)),
            ("y.npy", npy_bytes(&y)),
            ("x_offsets.npy", npy_bytes(&col(xo))),
            ("y_offsets.npy", npy_bytes(&col(yo))),
        ],
    );
}

fn stssl_series(t: usize, r: usize) -> Array3<f64> {
    counts(&[t, r, 2]).into_dimensionality().unwrap()
}

#[test]
fn stssl_rebuilds_series_with_gapped_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let (xo, yo) = ([-6, -5, -2, -1, 0], [1]);
    let s = stssl_series(40, 6);
    // val: anchors 6..16, test: 16..39 -> series steps 0..=39.
    write_split(&dir.path().join("val.npz"), &s, &(6..16).collect::<Vec<_>>(), &xo, &yo);
    write_split(&dir.path().join("test.npz"), &s, &(16..39).collect::<Vec<_>>(), &xo, &yo);
    write_zip(&dir.path().join("adj_mx.npz"), &[("adj_mx.npy", npy_bytes(&Array2::<f64>::eye(6)))]);
    let c = read_stssl(dir.path(), 2, 3, 15).unwrap();
    assert_eq!(c.flow.dim(), (40, 6, 2));
    assert_eq!(c.flow, s.mapv(|v| v as f32));
    assert_eq!((c.interval_min, c.layout.clone()), (15, Layout::Grid { height: 2, width: 3 }));
    assert_eq!(c.channels, vec![Channel::Dropoff, Channel::Pickup]);

    // Contiguous offsets and a train split too; multi-step y.
    let dir2 = tempfile::tempdir().unwrap();
    let (xo, yo) = ([-2, -1, 0], [1, 2]);
    write_split(&dir2.path().join("train.npz"), &s, &[2, 3, 4], &xo, &yo);
    write_split(&dir2.path().join("test.npz"), &s, &[5, 6], &xo, &yo);
    let c = read_stssl(dir2.path(), 3, 2, 60).unwrap();
    assert_eq!(c.flow, s.slice(s![0..9, .., ..]).mapv(|v| v as f32));
}

#[test]
fn stssl_errors() {
    let (xo, yo) = ([-3, -1, 0], [1]);
    let s = stssl_series(30, 4);
    let anchors = |r: std::ops::Range<usize>| r.collect::<Vec<_>>();

    // A window out of order inside a file.
    let dir = tempfile::tempdir().unwrap();
    let mut a = anchors(3..20);
    a.swap(5, 6);
    write_split(&dir.path().join("val.npz"), &s, &a, &xo, &yo);
    let e = msg(read_stssl(dir.path(), 2, 2, 60));
    assert!(e.contains("val.npz") && e.contains("window 5") && e.contains("not consecutive"), "{e}");

    // test.npz does not continue val.npz (two anchors skipped).
    let dir = tempfile::tempdir().unwrap();
    write_split(&dir.path().join("val.npz"), &s, &anchors(3..10), &xo, &yo);
    write_split(&dir.path().join("test.npz"), &s, &anchors(12..20), &xo, &yo);
    let e = msg(read_stssl(dir.path(), 2, 2, 60));
    assert!(e.contains("test.npz") && e.contains("window 0") && e.contains("of ") && e.contains("continue"), "{e}");

    // Grid mismatch, unknown auto grid, adjacency of the wrong size, missing directory content.
    let dir = tempfile::tempdir().unwrap();
    write_split(&dir.path().join("val.npz"), &s, &anchors(3..10), &xo, &yo);
    assert!(msg(read_stssl(dir.path(), 3, 3, 60)).contains("4 regions, but the grid given is 3x3"));
    assert!(msg(read_stssl_auto(dir.path())).contains("not a known ST-SSL grid"));
    write_zip(&dir.path().join("adj_mx.npz"), &[("adj_mx.npy", npy_bytes(&Array2::<f64>::eye(5)))]);
    let e = msg(read_stssl(dir.path(), 2, 2, 60));
    assert!(e.contains("adj_mx") && e.contains("(4, 4)"), "{e}");
    let empty = tempfile::tempdir().unwrap();
    assert!(msg(read_stssl(empty.path(), 2, 2, 60)).contains("no train.npz, val.npz or test.npz"));

    // Too few windows to fill the gaps between the offsets.
    let (gx, gy) = ([-6, -5, -2, -1, 0], [1]);
    let dir = tempfile::tempdir().unwrap();
    write_split(&dir.path().join("val.npz"), &s, &anchors(6..8), &gx, &gy);
    let e = msg(read_stssl(dir.path(), 2, 2, 60));
    assert!(e.contains("step 3 of 9 is covered by no window"), "{e}");
    write_split(&dir.path().join("val.npz"), &s, &anchors(6..7), &gx, &gy);
    assert!(msg(read_stssl(dir.path(), 2, 2, 60)).contains("cannot cover the 8 steps"));

    // A NaN (identical in every window that holds it) reaches City::new: named with step / region.
    let dir = tempfile::tempdir().unwrap();
    let mut bad = s.clone();
    bad[[8, 2, 1]] = f64::NAN;
    write_split(&dir.path().join("val.npz"), &bad, &anchors(3..10), &xo, &yo);
    let e = msg(read_stssl(dir.path(), 2, 2, 60));
    assert!(e.contains("non-finite value NaN at step 8, region 2, channel 1"), "{e}");

    // Missing offsets key lists what is present; wrong rank of x.
    let dir = tempfile::tempdir().unwrap();
    write_zip(&dir.path().join("val.npz"), &[("x.npy", npy_bytes(&counts(&[3, 2, 4, 2]))), ("y.npy", npy_bytes(&counts(&[3, 1, 4, 2])))]);
    let e = msg(read_stssl(dir.path(), 2, 2, 60));
    assert!(e.contains("`x_offsets`") && e.contains("x, y"), "{e}");
    write_zip(&dir.path().join("val.npz"), &[("x.npy", npy_bytes(&counts(&[3, 2, 8])))]);
    assert!(msg(read_stssl(dir.path(), 2, 2, 60)).contains("(N, Lx, R, 2)"));
}

// ---------------------------------------------------------------- NYC 69 zones on small files

/// Builds a miniature `nyc-manhattan-69` folder with `z` zones and `hours` hours.
fn nyc69_dir(z: usize, hours: usize, csv_line_end: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let half: Array2<f64> = counts(&[2 * hours, z * 2]).into_dimensionality().unwrap();
    let (inflow, outflow) = (half.slice(s![.., 0..z]).to_owned(), half.slice(s![.., z..]).to_owned());
    let hourly = |a: &Array2<f64>| Array2::from_shape_fn((hours, z), |(t, j)| a[[2 * t, j]] + a[[2 * t + 1, j]]);
    let both = ndarray::stack(Axis(2), &[hourly(&inflow).view(), hourly(&outflow).view()]).unwrap();
    for (folder, stem) in [("data-NYCBike", "NYCbike"), ("data-NYCTaxi", "NYCtaxi")] {
        let base = root.join(folder);
        std::fs::create_dir_all(base.join("60min")).unwrap();
        std::fs::create_dir_all(base.join("30min")).unwrap();
        let name = |kind: &str| format!("201901-202012-{stem}-{kind}.npz");
        write_zip(&base.join("60min").join(name("inoutflow")), &[("arr_0.npy", npy_bytes(&both))]);
        // The real 30-minute files are Fortran-ordered.
        write_zip(&base.join("30min").join(name("inflow")), &[("arr_0.npy", npy_bytes(&fortran(&inflow)))]);
        write_zip(&base.join("30min").join(name("outflow")), &[("arr_0.npy", npy_bytes(&fortran(&outflow)))]);
    }
    let adj = Array2::from_shape_fn((z, z), |(i, j)| if i.abs_diff(j) == 1 { 1 } else { 0 });
    write_adj(root, &adj, csv_line_end);
    dir
}

fn write_adj(root: &Path, adj: &Array2<i32>, end: &str) {
    let dir = root.join("data-NYCZones/adjmatrix");
    std::fs::create_dir_all(&dir).unwrap();
    let n = adj.ncols();
    let mut text = (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(",") + end;
    for row in adj.rows() {
        text += &(row.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",") + end);
    }
    std::fs::write(dir.join("W_adj_matrix.csv"), text).unwrap();
}

#[test]
fn nyc69_small_folder() {
    for end in ["\r\r\n", "\r\n", "\n"] {
        let dir = nyc69_dir(5, 30, end);
        let c = read_nyc69(dir.path(), "taxi").unwrap();
        assert_eq!(c.flow.dim(), (30, 5, 2));
        assert_eq!(c.channels, vec![Channel::Dropoff, Channel::Pickup]);
        assert_eq!(c.start_hour_of_week, Some(NYC69_START_HOUR_OF_WEEK));
        let Layout::Graph { adjacency, .. } = &c.layout else { panic!() };
        assert_eq!(adjacency.sum(), 8.0);
        assert_eq!(adjacency[[1, 2]], 1.0);
        let h = read_nyc69_interval(dir.path(), "bike", 30).unwrap();
        assert_eq!((h.flow.dim(), h.interval_min), ((60, 5, 2), 30));
        assert_eq!(h.resample(60).unwrap().flow, c.flow);
    }
    let dir = nyc69_dir(5, 30, "\n");
    assert!(matches!(read_nyc69(dir.path(), "car"), Err(DataError::Spec { .. })));
    assert!(msg(read_nyc69_interval(dir.path(), "taxi", 15)).contains("30 or 60"));
}

#[test]
fn nyc69_bad_adjacency_rows() {
    let dir = nyc69_dir(4, 10, "\r\r\n");
    let csv = dir.path().join("data-NYCZones/adjmatrix/W_adj_matrix.csv");
    let good = std::fs::read_to_string(&csv).unwrap();
    // Line 3 (the second data row) holds a word.
    let lines: Vec<&str> = good.split("\r\r\n").collect();
    let mut bad = lines.clone();
    bad[2] = "0,x,0,1";
    std::fs::write(&csv, bad.join("\r\r\n")).unwrap();
    let e = read_nyc69(dir.path(), "taxi").unwrap_err();
    assert!(matches!(e, DataError::Row { row: 3, .. }), "{e:?}");
    assert!(e.to_string().contains("column 1: `x`"), "{e}");
    // A short row, and a missing row.
    let mut bad = lines.clone();
    bad[4] = "0,0,1";
    std::fs::write(&csv, bad.join("\n")).unwrap();
    assert!(msg(read_nyc69(dir.path(), "taxi")).contains("row 5: 3 columns, expected 4"));
    std::fs::write(&csv, lines[..4].join("\n")).unwrap();
    assert!(msg(read_nyc69(dir.path(), "taxi")).contains("only 3 data rows, expected 4"));
    std::fs::remove_file(&csv).unwrap();
    assert!(msg(read_nyc69(dir.path(), "taxi")).contains("W_adj_matrix.csv: cannot open"));
}

// ---------------------------------------------------------------- CrossTReS on small files

#[test]
fn crosstres_small_folder() {
    let dir = tempfile::tempdir().unwrap();
    let city = dir.path().join("DC");
    std::fs::create_dir_all(&city).unwrap();
    let pick = counts(&[6, 3, 2]);
    let drop = pick.mapv(|v| v + 100.0);
    write_npy(city.join("BikeDC_pickup.npy"), &pick).unwrap();
    write_npy(city.join("BikeDC_dropoff.npy"), &drop.mapv(|v| v as f32)).unwrap();
    let c = read_crosstres(dir.path(), "DC", "bike").unwrap();
    assert_eq!((c.flow.dim(), c.name.as_str(), c.interval_min), ((6, 6, 2), "DC-bike", 60));
    assert_eq!(c.layout, Layout::Grid { height: 3, width: 2 });
    assert_eq!(c.flow[[4, 2 * 2 + 1, 0]], pick[[4, 2, 1]] as f32);
    assert_eq!(c.flow[[4, 2 * 2 + 1, 1]], drop[[4, 2, 1]] as f32);
    assert!(c.poi.is_none());

    let poi = counts(&[3, 2, 14]).mapv(|v| v as i64);
    write_npy(city.join("DC_poi.npy"), &poi).unwrap();
    let c = read_crosstres(dir.path(), "DC", "Bike").unwrap();
    let p = c.poi.as_ref().unwrap();
    assert_eq!(p.dim(), (6, 14));
    assert_eq!(p[[2 * 2 + 1, 13]], poi[[2, 1, 13]] as f32);

    write_npy(city.join("DC_poi.npy"), &counts(&[2, 3, 14])).unwrap();
    assert!(msg(read_crosstres(dir.path(), "DC", "bike")).contains("DC_poi.npy"));
    let e = msg(read_crosstres(dir.path(), "DC", "taxi"));
    assert!(e.contains("TaxiDC_pickup.npy: cannot open"), "{e}");
    write_npy(city.join("BikeDC_dropoff.npy"), &counts(&[5, 3, 2])).unwrap();
    assert!(msg(read_crosstres(dir.path(), "DC", "bike")).contains("BikeDC_dropoff.npy"));
    let mut neg = drop.clone();
    neg[[1, 1, 1]] = -1.0;
    write_npy(city.join("BikeDC_dropoff.npy"), &neg).unwrap();
    let e = msg(read_crosstres(dir.path(), "DC", "bike"));
    assert!(e.contains("step 1, region 3, channel 1") && e.contains("BikeDC_dropoff.npy"), "{e}");
}

// ---------------------------------------------------------------- plain arrays

#[test]
fn plain_axis_orders() {
    let dir = tempfile::tempdir().unwrap();
    let thwc = counts(&[4, 2, 3, 2]);
    let expect = read_metast_like(&thwc);
    let two = vec![Channel::Pickup, Channel::Dropoff];

    let p = dir.path().join("a.npy");
    write_npy(&p, &thwc).unwrap();
    let c = read_plain(&p, None, "THWC", 60, two.clone()).unwrap();
    assert_eq!((c.flow.clone(), c.layout.clone()), (expect.clone(), Layout::Grid { height: 2, width: 3 }));

    let tchw = thwc.view().permuted_axes(IxDyn(&[0, 3, 1, 2])).to_owned();
    let p = dir.path().join("b.npz");
    write_zip(&p, &[("data.npy", npy_bytes(&tchw)), ("other.npy", npy_bytes(&Array1::<f64>::zeros(2)))]);
    assert_eq!(read_plain(&p, Some("data"), "tchw", 60, two.clone()).unwrap().flow, expect);
    let e = msg(read_plain(&p, None, "TCHW", 60, two.clone()));
    assert!(e.contains("give a key") && e.contains("data") && e.contains("other"), "{e}");

    let trc = expect.mapv(|v| v as f64);
    let p = dir.path().join("c.npz");
    write_zip(&p, &[("flow.npy", npy_bytes(&trc))]);
    let c = read_plain(&p, None, "TRC", 30, two.clone()).unwrap();
    assert_eq!(c.flow, expect);
    assert!(matches!(&c.layout, Layout::Graph { adjacency, coords: None } if adjacency.dim() == (6, 6)));

    let tr = trc.index_axis(Axis(2), 1).to_owned();
    let p = dir.path().join("d.npy");
    write_npy(&p, &tr).unwrap();
    let c = read_plain(&p, None, "TR", 60, vec![Channel::Other]).unwrap();
    assert_eq!(c.flow.dim(), (4, 6, 1));
    assert_eq!(c.flow.index_axis(Axis(2), 0), expect.index_axis(Axis(2), 1));
    let rt = tr.t().to_owned();
    write_npy(&p, &rt).unwrap();
    assert_eq!(read_plain(&p, None, "RT", 60, vec![Channel::Other]).unwrap().flow, c.flow);
}

/// `(T, H, W, C)` -> `[T, H*W, C]` as f32, the reference permutation.
fn read_metast_like(a: &ArrayD<f64>) -> Array3<f32> {
    let sh = a.shape();
    a.mapv(|v| v as f32).into_shape_with_order((sh[0], sh[1] * sh[2], sh[3])).unwrap()
}

#[test]
fn plain_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.npy");
    write_npy(&p, &counts(&[4, 2, 3, 2])).unwrap();
    let two = || vec![Channel::Pickup, Channel::Dropoff];
    assert!(msg(read_plain(&p, None, "TXYC", 60, two())).contains("unknown axis letter `X`"));
    assert!(msg(read_plain(&p, None, "TTRC", 60, two())).contains("more than once"));
    assert!(msg(read_plain(&p, None, "HWCR", 60, two())).contains("no time axis"));
    assert!(msg(read_plain(&p, None, "THRC", 60, two())).contains("either `R` or both"));
    let e = read_plain(&p, None, "TRC", 60, two()).unwrap_err();
    assert!(matches!(&e, DataError::Shape { found, .. } if found == &vec![4, 2, 3, 2]), "{e:?}");
    assert!(e.to_string().contains("rank 3 for axes `TRC`"));
    let e = msg(read_plain(&p, None, "THWC", 60, vec![Channel::Other]));
    assert!(e.contains("a.npy") && e.contains("1 channel names given for 2 channels"), "{e}");
    assert!(msg(read_plain(&p, Some("x"), "THWC", 60, two())).contains("key `x` given for a .npy"));
    let p2 = dir.path().join("a.csv");
    std::fs::write(&p2, "1,2").unwrap();
    assert!(msg(read_plain(&p2, None, "TR", 60, two())).contains("expected a .npy or .npz"));
    let p3 = dir.path().join("b.npz");
    write_zip(&p3, &[("flow.npy", npy_bytes(&counts(&[4, 6])))]);
    let e = msg(read_plain(&p3, Some("volume"), "TR", 60, vec![Channel::Other]));
    assert!(e.contains("missing key `volume`") && e.contains("keys present: flow"), "{e}");
}
