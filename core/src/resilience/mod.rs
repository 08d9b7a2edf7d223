//! Resilience policies: timeout, retry with backoff and budget, circuit
//! breaker, hedging, fallback.
