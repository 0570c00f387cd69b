//! The integration suite: one binary (each test binary links the whole
//! workspace, so there is only one).
