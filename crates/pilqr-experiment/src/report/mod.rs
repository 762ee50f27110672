//! Reporting a finished run: learning-curve plots, the closing summary, statistics over seeds and
//! the results page of `pilqr reproduce`.

pub mod plot;
pub mod results_findings;
pub mod results_page;
pub mod statistics;
pub mod summary;
