//! The catalog of normative statements (cases/spec/*.yaml).
