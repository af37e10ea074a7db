//! Verification over many forecast starts (a hindcast).
