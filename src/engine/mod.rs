//! Runs one scenario against a peer: connections, sends, expectations, timers, variables, verdict.
