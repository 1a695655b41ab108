//! Trajectory and raw-GPS readers/writers: small files written here (every error path, with
//! the file name and row in the message) and the real files in `../shared/data/gps` when
//! present (skipped with a message otherwise).
use std::io::Write;
use std::path::{Path, PathBuf};

use urbancast_roads::io::*;
use urbancast_roads::{GpsTrack, Trajectory};

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

/// A shared data file, or `None` (with a message) when absent.
fn shared_file(rel: &str) -> Option<PathBuf> {
    let p = shared()?.join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipping: {} not found", p.display());
        None
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn write_gz(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    let mut e = flate2::write::GzEncoder::new(std::fs::File::create(&p).unwrap(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap();
    p
}

/// Asserts that `r` is an error whose message names the file and contains every `parts`.
fn assert_err<T: std::fmt::Debug>(r: urbancast_roads::Result<T>, file: &Path, parts: &[&str]) {
    let msg = r.expect_err("expected an error").to_string();
    let name = file.file_name().unwrap().to_string_lossy();
    assert!(msg.contains(&*name), "`{msg}` does not name {name}");
    for p in parts {
        assert!(msg.contains(p), "`{msg}` does not contain `{p}`");
    }
}

fn traj(id: Option<&str>, driver: Option<&str>, roads: &[u64], times: &[i64]) -> Trajectory {
    Trajectory::new(id.map(Into::into), driver.map(Into::into), roads.to_vec(), times.to_vec()).unwrap()
}

const HDR: &str = "mm_id,user_id,traj_id,rid_list,time_list\n";
/// 2015-11-05T08:01:12Z.
const T0: i64 = 1_446_710_472;

// ---------------------------------------------------------------- HOSER CSV

#[test]
fn hoser_time_helpers() {
    assert_eq!(format_time(T0), "2015-11-05T08:01:12Z");
    assert_eq!(parse_time("2015-11-05T08:01:12Z"), Some(T0));
    assert_eq!(parse_time("2015-11-05 08:01:12"), Some(T0));
    assert_eq!(parse_time("2015-11-05T16:01:12+08:00"), Some(T0));
    assert_eq!(parse_time("2015-11-05T08:01:12.75Z"), Some(T0));
    assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
    for bad in ["", "2015-13-05T08:01:12Z", "2015-02-30T08:01:12Z", "2015-11-05T25:01:12Z", "yesterday"] {
        assert_eq!(parse_time(bad), None, "{bad}");
    }
    for t in [0, T0, -86_400, 4_102_444_799] {
        assert_eq!(parse_time(&format_time(t)), Some(t));
    }
}

#[test]
fn hoser_round_trip_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let trajs = vec![
        traj(Some("1042"), Some("17"), &[3048, 3051, 3060], &[T0, T0 + 28, T0 + 79]),
        traj(Some("t,2"), None, &[7], &[T0 + 5]),
        traj(Some("x \"q\""), Some("driver, with comma"), &[1, 1, 2, u64::MAX], &[T0, T0, T0 + 1, T0 + 86_400]),
    ];
    for name in ["t.csv", "t.csv.gz"] {
        let p = dir.path().join(name);
        write_hoser_csv(&p, &trajs).unwrap();
        assert_eq!(read_hoser_csv(&p).unwrap(), trajs, "{name}");
    }
    let text = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(HDR.trim_end()));
    assert_eq!(lines.next(), Some(r#"0,17,1042,"[3048, 3051, 3060]","2015-11-05T08:01:12Z,2015-11-05T08:01:40Z,2015-11-05T08:02:31Z""#));
    assert_eq!(lines.next(), Some(r#"1,,"t,2",[7],2015-11-05T08:01:17Z"#));
    // Empty input round-trips too; a missing id comes back as the row index.
    let p = dir.path().join("e.csv");
    write_hoser_csv(&p, &[]).unwrap();
    assert!(read_hoser_csv(&p).unwrap().is_empty());
    write_hoser_csv(&p, &[traj(None, None, &[5, 6], &[T0, T0 + 1])]).unwrap();
    assert_eq!(read_hoser_csv(&p).unwrap(), vec![traj(Some("0"), None, &[5, 6], &[T0, T0 + 1])]);
}

#[test]
fn hoser_list_literal_variants_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let t = "2015-11-05T08:01:12Z";
    let u = "2015-11-05T08:01:40Z";
    let rows = [
        format!("0,5,a,\"[1, 2]\",\"{t},{u}\""),
        format!("1,5,b,\"1,2\",\"[{t}, {u}]\""),
        format!("2,5,c,\"'[1,2]'\",\"['{t}', '{u}']\""),
        format!("3,5,d,\"['1', \"\"2\"\"]\",\"[\"\"{t}\"\",\"\"{u}\"\"]\""),
        format!("4,5,e,\"[ 1 ,2, ]\",\" {t} , {u} \""),
        format!("5,5,f,\"(1, 2)\",\"{t},{u},\""),
    ];
    let p = write(dir.path(), "v.csv", &format!("{HDR}{}\n", rows.join("\n")));
    let got = read_hoser_csv(&p).unwrap();
    assert_eq!(got.len(), rows.len());
    for (g, id) in got.iter().zip(["a", "b", "c", "d", "e", "f"]) {
        assert_eq!(g, &traj(Some(id), Some("5"), &[1, 2], &[T0, T0 + 28]));
    }
    // Columns by name, in any order; missing id columns give None, mm_id stands in for traj_id.
    let p = write(dir.path(), "o.csv", &format!("time_list,rid_list\n\"{t},{u}\",\"[9, 8]\"\n"));
    assert_eq!(read_hoser_csv(&p).unwrap(), vec![traj(None, None, &[9, 8], &[T0, T0 + 28])]);
    let p = write(dir.path(), "m.csv", &format!("rid_list,mm_id,time_list\n[4],12,{t}\n"));
    assert_eq!(read_hoser_csv(&p).unwrap(), vec![traj(Some("12"), None, &[4], &[T0])]);
    // The streaming reader gives the same, with the row it is at.
    let mut r = HoserCsvReader::open(dir.path().join("v.csv")).unwrap();
    assert_eq!(r.next().unwrap().unwrap(), got[0]);
    assert_eq!(r.row(), 1);
    assert_eq!(r.collect::<Result<Vec<_>, _>>().unwrap(), got[1..]);
}

#[test]
fn hoser_errors_name_file_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let t = "2015-11-05T08:01:12Z";
    let good = format!("0,1,1,\"[1, 2]\",\"{t},{t}\"\n");
    let cases: [(&str, &str, &[&str]); 8] = [
        ("road.csv", "1,1,2,\"[1, x2]\",\"{t},{t}\"", &["row 2", "rid_list", "item 2", "`x2`"]),
        ("mm.csv", "mm7,1,2,\"[1, 2]\",\"{t},{t}\"", &["row 2", "mm_id", "`mm7`"]),
        ("time.csv", "1,1,2,\"[1, 2]\",\"{t},2015-11-05 8h\"", &["row 2", "time_list", "item 2", "%Y-%m-%dT%H:%M:%SZ"]),
        ("count.csv", "1,1,2,\"[1, 2, 3]\",\"{t},{t}\"", &["row 2", "3 roads", "2 timestamps"]),
        ("back.csv", "1,1,2,\"[1, 2]\",\"{t},2015-11-05T08:01:11Z\"", &["row 2", "time_list", "goes back in time"]),
        ("empty_rids.csv", "1,1,2,[],\"{t}\"", &["row 2", "rid_list", "empty list"]),
        ("empty_times.csv", "1,1,2,[1],\"\"", &["row 2", "time_list", "empty list"]),
        ("fields.csv", "1,1,2,\"[1]\"", &["row 2", "4 fields", "header has 5"]),
    ];
    for (name, bad, parts) in cases {
        let bad = bad.replace("{t}", t);
        let p = write(dir.path(), name, &format!("{HDR}{good}{bad}\n{good}"));
        assert_err(read_hoser_csv(&p), &p, parts);
    }
    let p = write(dir.path(), "nocol.csv", "mm_id,rid_list\n0,[1]\n");
    assert_err(read_hoser_csv(&p), &p, &["time_list"]);
    let p = write(dir.path(), "nothing.csv", "");
    assert_err(read_hoser_csv(&p), &p, &["empty file"]);
    assert_err(read_hoser_csv(dir.path().join("absent.csv")), &dir.path().join("absent.csv"), &["cannot open"]);
    // Writing checks the trajectories.
    let bad = Trajectory { id: Some("z".into()), driver: None, roads: vec![1, 2], times: vec![5] };
    assert_err(write_hoser_csv(dir.path().join("w.csv"), &[bad]), &dir.path().join("w.csv"), &["trajectory 0"]);
}

// ---------------------------------------------------------------- Porto

const PORTO_HDR: &str = "shape,timestamps,TRIP_ID,CALL_TYPE,ORIGIN_CALL,ORIGIN_STAND,TAXI_ID,DAY_TYPE,MISSING_DATA\n";

fn porto_row(shape: &str, stamps: &str, trip: &str) -> String {
    format!("\"{shape}\",\"{stamps}\",{trip},B,NA,15,20000542,A,False\n")
}

#[test]
fn porto_wkt_layout_and_edge_cases() {
    let dir = tempfile::tempdir().unwrap();
    let ok = porto_row("LINESTRING (-8.585676 41.148522, -8.585712 41.148639)", "1408039037, 1408039052", "T1");
    let text = [
        ok.clone(),
        porto_row("LINESTRING (-8.6 41.1)", "1408039037", "T2"),
        porto_row("LINESTRING EMPTY", "", "T3"),
        porto_row("", "", "T4"),
    ]
    .concat();
    let p = write(dir.path(), "porto.csv", &format!("{PORTO_HDR}{text}"));
    let s = read_porto(&p).unwrap();
    assert_eq!(s.tracks.len(), 1);
    let t = &s.tracks[0];
    assert_eq!((t.id.as_str(), t.driver.as_deref()), ("T1", Some("20000542")));
    assert_eq!(t.points[1].pos, [-8.585712, 41.148639]);
    assert_eq!(t.points[1].time, 1408039052);
    let skipped: Vec<_> = s.skipped.iter().map(|k| (k.row, k.id.as_str(), k.points)).collect();
    assert_eq!(skipped, [(2, "T2", 1), (3, "T3", 0), (4, "T4", 0)]);
    assert_eq!(read_gps_auto(&p).unwrap(), s);

    let bad: [(&str, String, &[&str]); 6] = [
        ("count.csv", porto_row("LINESTRING (-8.6 41.1, -8.6 41.2)", "1, 2, 3", "X"), &["row 2", "2 points but 3 timestamps"]),
        ("nan.csv", porto_row("LINESTRING (-8.6 41.1, NaN 41.2)", "1, 2", "X"), &["row 2", "point 2", "not a number"]),
        ("range.csv", porto_row("LINESTRING (-8.6 41.1, -8.6 95)", "1, 2", "X"), &["row 2", "point 2", "out of range"]),
        ("wkt.csv", porto_row("POINT (-8.6 41.1)", "1", "X"), &["row 2", "shape", "LINESTRING"]),
        ("stamp.csv", porto_row("LINESTRING (-8.6 41.1, -8.6 41.2)", "1, x", "X"), &["row 2", "timestamps", "`x`"]),
        ("back.csv", porto_row("LINESTRING (-8.6 41.1, -8.6 41.2)", "5, 4", "X"), &["row 2", "goes back"]),
    ];
    for (name, row, parts) in bad {
        let p = write(dir.path(), name, &format!("{PORTO_HDR}{ok}{row}"));
        assert_err(read_porto(&p), &p, parts);
    }
    let p = write(dir.path(), "short.csv", &format!("{PORTO_HDR}{}", porto_row("LINESTRING (-8.6 41.1)", "1", "X")));
    assert_err(read_porto(&p), &p, &["no GPS tracks", "1 skipped"]);
    let p = write(dir.path(), "empty.csv", "");
    assert_err(read_porto(&p), &p, &["no GPS tracks"]);
}

#[test]
fn porto_kaggle_layout() {
    let dir = tempfile::tempdir().unwrap();
    let hdr =
        "\"TRIP_ID\",\"CALL_TYPE\",\"ORIGIN_CALL\",\"ORIGIN_STAND\",\"TAXI_ID\",\"TIMESTAMP\",\"DAY_TYPE\",\"MISSING_DATA\",\"POLYLINE\"\n";
    let rows = "\"1372636858620000589\",\"C\",\"\",\"\",\"20000589\",\"1372636858\",\"A\",\"False\",\"[[-8.618643,41.141412],[-8.618499,41.141376],[-8.620326,41.14251]]\"\n\
                \"2\",\"C\",\"\",\"\",\"20000590\",\"1372637000\",\"A\",\"True\",\"[]\"\n";
    let p = write_gz(dir.path(), "train.csv.gz", &format!("{hdr}{rows}"));
    let s = read_porto(&p).unwrap();
    assert_eq!(s.tracks.len(), 1);
    let t = &s.tracks[0];
    assert_eq!((t.id.as_str(), t.driver.as_deref()), ("1372636858620000589", Some("20000589")));
    assert_eq!(t.points.iter().map(|p| p.time).collect::<Vec<_>>(), [1372636858, 1372636873, 1372636888]);
    assert_eq!(t.points[2].pos, [-8.620326, 41.14251]);
    assert_eq!(s.skipped.len(), 1);
    assert_eq!(read_gps_auto(&p).unwrap(), s);
    let p = write(dir.path(), "bad.csv", &format!("{hdr}{}", rows.replace("[[-8.618643,", "[[-8.618643;")));
    assert_err(read_porto(&p), &p, &["row 1", "POLYLINE"]);
    let p = write(dir.path(), "ts.csv", &format!("{hdr}{}", rows.replace("1372636858\"", "soon\"")));
    assert_err(read_porto(&p), &p, &["row 1", "TIMESTAMP", "`soon`"]);
}

// ---------------------------------------------------------------- Chengdu

fn chengdu_line(extra: &str, lngs: &str, lats: &str, gaps: &str) -> String {
    format!(
        "{{\"driverID\":7361,\"dateID\":24,\"weekID\":6,\"timeID\":548,{extra}\"lngs\":[{lngs}],\"lats\":[{lats}],\"time_gap\":[{gaps}],\"states\":[1.0,1.0]}}\n"
    )
}

#[test]
fn chengdu_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let a = chengdu_line("", "104.07,104.08", "30.61,30.62", "0.0,20.4");
    let b = chengdu_line("\"id\":\"trip9\",", "104.07,104.08", "30.61,30.62", "0.0,61.0");
    let p = write(dir.path(), "trips.jsonl", &format!("{a}\n{b}"));
    let s = read_chengdu(&p).unwrap();
    assert_eq!(s.tracks.len(), 2);
    let t = &s.tracks[0];
    assert_eq!((t.id.as_str(), t.driver.as_deref()), ("1", Some("7361")));
    assert_eq!(s.tracks[1].id, "trip9");
    // 2014-08-24 09:08 at UTC+8 = 2014-08-24T01:08:00Z.
    assert_eq!(format_time(t.points[0].time), "2014-08-24T01:08:00Z");
    assert_eq!(t.points[1].time - t.points[0].time, 20);
    assert_eq!(t.points[1].pos, [104.08, 30.62]);
    let utc = ChengduOptions::from_date(2014, 7, 31, 0).unwrap();
    let s2 = read_chengdu_with(&p, &utc).unwrap();
    assert_eq!(s2.tracks[0].points[0].time - t.points[0].time, 8 * 3600);
    assert_eq!(read_gps_auto(&p).unwrap(), s);

    let bad: [(&str, String, &[&str]); 5] = [
        ("json.jsonl", "{\"lngs\": [1,\n".into(), &["row 2", "bad JSON"]),
        ("field.jsonl", "{\"lngs\":[],\"lats\":[],\"time_gap\":[],\"timeID\":1}\n".into(), &["row 2", "dateID"]),
        ("len.jsonl", chengdu_line("", "104.07,104.08", "30.61", "0,1"), &["row 2", "different lengths", "lats 1"]),
        ("pos.jsonl", chengdu_line("", "104.07,104.08", "30.61,300.0", "0,1"), &["row 2", "point 2", "out of range"]),
        ("gap.jsonl", chengdu_line("", "104.07,104.08", "30.61,30.62", "5,1"), &["row 2", "point 2", "goes back"]),
    ];
    for (name, line, parts) in bad {
        let p = write(dir.path(), name, &format!("{a}{line}"));
        assert_err(read_chengdu(&p), &p, parts);
    }
    let p = write(dir.path(), "blank.jsonl", "\n\n");
    assert_err(read_chengdu(&p), &p, &["no GPS tracks"]);
}

// ---------------------------------------------------------------- GeoLife and plain CSV

const PLT_HEAD: &str = "Geolife trajectory\nWGS 84\nAltitude is in Feet\nReserved 3\n0,2,255,My Track,0,0,2,8421376\n0\n";

#[test]
fn geolife_plt_file_and_directory() {
    let dir = tempfile::tempdir().unwrap();
    // Three fixes, then one 31 minutes later (a track of its own, skipped), then two more.
    let body = "39.984702,116.318417,0,492,39744.1201851852,2008-10-23,02:53:04\n\
                39.984683,116.31845,0,492,39744.1202546296,2008-10-23,02:53:10\n\
                39.984686,116.318417,0,492,39744.1203125,2008-10-23,02:53:15\n\
                39.9847,116.3184,0,492,39744.142,2008-10-23,03:24:16\n\
                40.0,116.4,0,492,39744.2,2008-10-23,04:48:00\n\
                40.0,116.41,0,492,39744.2,2008-10-23,04:49:00\n";
    let p = write(dir.path(), "Data/010/Trajectory/20081023025304.plt", &format!("{PLT_HEAD}{body}"));
    let s = read_geolife(&p).unwrap();
    let ids: Vec<_> = s.tracks.iter().map(|t| (t.id.as_str(), t.points.len())).collect();
    assert_eq!(ids, [("010/20081023025304_0", 3), ("010/20081023025304_2", 2)]);
    assert_eq!(s.skipped.len(), 1);
    assert_eq!((s.skipped[0].row, s.skipped[0].points), (10, 1));
    let t = &s.tracks[0];
    assert_eq!(t.driver.as_deref(), Some("010"));
    assert_eq!(t.points[0].pos, [116.318417, 39.984702]);
    assert_eq!(format_time(t.points[0].time), "2008-10-23T02:53:04Z");
    assert_eq!(read_plt(&p).unwrap().len(), 6);
    // A bigger gap setting keeps the stream whole.
    assert_eq!(read_geolife_with(&p, 7200).unwrap().tracks.len(), 1);
    // A directory: all users, all files, recursively.
    let first3 = body.lines().take(3).collect::<Vec<_>>().join("\n");
    write(dir.path(), "Data/011/Trajectory/20081024000000.plt", &format!("{PLT_HEAD}{first3}\n"));
    let all = read_geolife(dir.path()).unwrap();
    assert_eq!(all.tracks.len(), 3);
    assert_eq!(all.tracks[2].driver.as_deref(), Some("011"));
    assert_eq!(read_gps_auto(dir.path()).unwrap(), all);

    let bad = write(dir.path(), "bad/x.plt", &format!("{PLT_HEAD}{first3}\n39.9,116.3,0,492\n"));
    assert_err(read_geolife(&bad), &bad, &["row 10", "4 fields"]);
    let bad = write(dir.path(), "bad/y.plt", &format!("{PLT_HEAD}{first3}\n91.5,116.3,0,1,2,2008-10-23,02:53:55\n"));
    assert_err(read_geolife(&bad), &bad, &["row 10", "out of range"]);
    let empty = tempfile::tempdir().unwrap();
    assert_err(read_geolife(empty.path()), empty.path(), &["no GPS tracks"]);
}

#[test]
fn gps_csv_aliases_grouping_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Trip_ID,Timestamp,Latitude,Lng,Taxi_ID\n\
                b,2015-11-05T08:01:40Z,41.15,-8.61,7\n\
                a,1446710472,41.14,-8.60,8\n\
                b,2015-11-05 08:01:12,41.16,-8.62,7\n\
                a,1446710500.9,41.13,-8.59,8\n";
    let p = write(dir.path(), "pts.csv", text);
    let s = read_gps_csv(&p).unwrap();
    let ids: Vec<_> = s.tracks.iter().map(|t| (t.id.as_str(), t.driver.as_deref())).collect();
    assert_eq!(ids, [("b", Some("7")), ("a", Some("8"))]);
    let b = &s.tracks[0];
    assert_eq!(b.points.iter().map(|p| p.time).collect::<Vec<_>>(), [T0, T0 + 28]);
    assert_eq!(b.points[0].pos, [-8.62, 41.16]);
    assert_eq!(s.tracks[1].points[1].time, 1446710500);
    assert_eq!(read_gps_auto(&p).unwrap(), s);
    // Without an id column: per-user streams cut at gaps.
    let p = write(dir.path(), "users.csv", "lat,lon,time,uid\n40,116,0,u\n40,116,60,u\n40,116,5000,u\n40,116,5001,u\n");
    let ids: Vec<_> = read_gps_csv(&p).unwrap().tracks.into_iter().map(|t| t.id).collect();
    assert_eq!(ids, ["u_0", "u_1"]);

    let hdr = "id,time,lat,lon\n";
    let bad: [(&str, &str, &[&str]); 5] = [
        ("nan.csv", "a,1,NaN,116", &["row 2", "not a number"]),
        ("range.csv", "a,1,40,200", &["row 2", "out of range"]),
        ("num.csv", "a,1,forty,116", &["row 2", "column lat", "`forty`"]),
        ("time.csv", "a,noon,40,116", &["row 2", "column time", "`noon`"]),
        ("id.csv", ",1,40,116", &["row 2", "empty track id"]),
    ];
    for (name, row, parts) in bad {
        let p = write(dir.path(), name, &format!("{hdr}a,0,40,116\n{row}\n"));
        assert_err(read_gps_csv(&p), &p, parts);
    }
    let p = write(dir.path(), "cols.csv", "id,when,lat,lon\na,1,2,3\n");
    assert_err(read_gps_csv(&p), &p, &["time (time/timestamp"]);
    for (name, text) in [("empty.csv", ""), ("header.csv", hdr)] {
        let p = write(dir.path(), name, text);
        assert_err(read_gps_csv(&p), &p, &["no GPS tracks"]);
        assert_err(read_gps_auto(&p), &p, &["no GPS tracks"]);
    }
}

#[test]
fn auto_rejects_unknown_and_hoser_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "what.csv", "a,b,c\n1,2,3\n");
    assert_err(read_gps_auto(&p), &p, &["unrecognised", "accepted GPS formats", "Porto", "Chengdu", "GeoLife"]);
    let p = write(dir.path(), "hoser.csv", &format!("{HDR}0,1,1,[1],2015-11-05T08:01:12Z\n"));
    assert_err(read_gps_auto(&p), &p, &["read_hoser_csv"]);
}

// ---------------------------------------------------------------- real files

fn all_points(tracks: &[GpsTrack]) -> impl Iterator<Item = &urbancast_roads::GpsPoint> {
    tracks.iter().flat_map(|t| t.points.iter())
}

#[test]
fn real_porto_sample() {
    let Some(p) = shared_file("gps/porto-taxi/porto-taxi-2014-sample.csv") else { return };
    let s = read_porto(&p).unwrap();
    assert_eq!(s.tracks.len(), 318);
    assert!(s.skipped.is_empty());
    assert_eq!(s.tracks[0].id, "T1");
    assert_eq!(s.tracks[0].points[0].pos, [-8.585676, 41.148522]);
    // Porto district; most fixes (87 %) in the city box lon -8.7..-8.5, lat 41.1..41.2.
    let (mut n, mut city) = (0, 0);
    for q in all_points(&s.tracks) {
        let [lon, lat] = q.pos;
        assert!((-8.8..=-7.5).contains(&lon) && (41.0..=41.6).contains(&lat), "{lon} {lat}");
        n += 1;
        city += usize::from((-8.7..=-8.5).contains(&lon) && (41.1..=41.2).contains(&lat));
    }
    assert_eq!(n, 14_436);
    assert!(city as f64 / n as f64 > 0.8, "{city}/{n}");
    for t in &s.tracks {
        assert!(t.points.windows(2).all(|w| w[1].time - w[0].time == PORTO_STEP_S), "{}", t.id);
    }
    assert_eq!(read_gps_auto(&p).unwrap(), s);
}

#[test]
fn real_chengdu_sample() {
    let Some(p) = shared_file("gps/chengdu-taxi/trips.jsonl") else { return };
    let s = read_chengdu(&p).unwrap();
    assert_eq!(s.tracks.len(), 1400);
    let n = s.num_points() as f64;
    let mean = |k: usize| all_points(&s.tracks).map(|q| q.pos[k]).sum::<f64>() / n;
    assert!((mean(0) - 104.06).abs() < 0.05 && (mean(1) - 30.65).abs() < 0.05, "{} {}", mean(0), mean(1));
    for q in all_points(&s.tracks) {
        assert!((103.5..104.5).contains(&q.pos[0]) && (30.2..31.2).contains(&q.pos[1]), "{:?}", q.pos);
    }
    // The default calendar agrees with weekID (0 = Monday) on every trip.
    let text = std::fs::read_to_string(&p).unwrap();
    for (t, line) in s.tracks.iter().zip(text.lines()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let local_day = (t.points[0].time + 8 * 3600).div_euclid(86_400);
        assert_eq!((local_day + 3) % 7, v["weekID"].as_i64().unwrap(), "trip {}", t.id);
        let dur = t.points.last().unwrap().time - t.points[0].time;
        assert!((dur as f64 - v["time"].as_f64().unwrap()).abs() <= 1.0, "trip {}", t.id);
    }
    assert_eq!(format_time(s.tracks[0].points[0].time), "2014-08-24T01:08:00Z");
}

#[test]
fn real_geolife_sample() {
    let Some(p) = shared_file("gps/beijing-geolife/geolife_sample.txt.gz") else { return };
    let s = read_geolife(&p).unwrap();
    assert_eq!(s.num_points() + s.num_skipped_points(), 217_653);
    let mut users: Vec<_> = s.tracks.iter().filter_map(|t| t.driver.as_deref()).collect();
    users.dedup();
    users.sort();
    users.dedup();
    assert_eq!(users, ["001", "005"]);
    assert_eq!(s.tracks[0].id, "001_0");
    assert_eq!(s.tracks[0].points[0].pos, [116.319236, 39.984094]);
    assert_eq!(format_time(s.tracks[0].points[0].time), "2008-10-23T05:53:05Z");
    let mut lons: Vec<f64> = all_points(&s.tracks).map(|q| q.pos[0]).collect();
    let mut lats: Vec<f64> = all_points(&s.tracks).map(|q| q.pos[1]).collect();
    lons.sort_by(f64::total_cmp);
    lats.sort_by(f64::total_cmp);
    let (mlon, mlat) = (lons[lons.len() / 2], lats[lats.len() / 2]);
    assert!((mlon - 116.3).abs() < 0.2 && (mlat - 40.0).abs() < 0.1, "median {mlon} {mlat}");
    for t in &s.tracks {
        assert!(t.points.windows(2).all(|w| (0..=GEOLIFE_GAP_S).contains(&(w[1].time - w[0].time))), "{}", t.id);
    }
    eprintln!("geolife sample: {} tracks, {} skipped", s.tracks.len(), s.skipped.len());
    assert_eq!(read_gps_auto(&p).unwrap(), s);
}
