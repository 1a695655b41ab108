//! The program's one progress style ([`urbancast_train::progress`]) for the crate's other long
//! loops (teacher windows, generation).
pub(crate) use urbancast_train::progress::bar;
