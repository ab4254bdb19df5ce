//! Benchmarks of aggregato against cqrs-es and postgres-es on the same workload, plus the raw
//! sqlx limits. Everything lives in `benches/` (see `benches/common/`); this library is empty.
