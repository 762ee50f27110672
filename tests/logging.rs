//! `RUST_LOG=info` tells what a user wants to follow (a line per iteration, the η search's
//! outcome and the dynamics refit of every condition's update), and a log that does not go to
//! a terminal has no colour escape codes.

mod common;

use common::{Scratch, pilqr, point_mass_config};

#[test]
fn info_logs_every_iteration_and_update_without_colours() {
    let s = Scratch::new("logging");
    let config = s.write("pm.toml", &point_mass_config(1, 2));
    let out = pilqr()
        .env("RUST_LOG", "info")
        .args([
            "train",
            "-q",
            "--config",
            config.to_str().unwrap(),
            "--out",
            s.path().join("run").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a redirected log:\n{log}"
    );
    for it in 0..2 {
        assert!(
            log.contains(&format!(
                "pilqr/seed3: iteration {it} ({} of 2 done): cost ",
                it + 1
            )),
            "{log}"
        );
        assert!(
            log.contains(&format!("pilqr/seed3 iteration {it} start-0: cost ")),
            "{log}"
        );
    }
    assert!(log.contains("η median"), "{log}");
    assert!(log.contains("dynamics refit in"), "{log}");
}
