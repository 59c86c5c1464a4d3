//! Build script of the desktop app: makes sure the frontend directory exists, then lets
//! `tauri-build` validate the config and capabilities and prepare the context.

use std::fs;
use std::path::Path;
use std::time::SystemTime;

/// Shown instead of the real UI when `ui/dist` has not been built (a fresh clone), so that
/// `cargo build`, `clippy` and `test` work without Node. No inline script or style: the
/// page must pass the app's strict CSP.
const PLACEHOLDER_HTML: &str = r#"<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Studyhall — UI not built</title>
  </head>
  <body>
    <h1>Studyhall</h1>
    <p>The user interface has not been built.</p>
    <p>Build it, then rebuild the app:</p>
    <pre>npm --prefix ui ci &amp;&amp; npm --prefix ui run build</pre>
  </body>
</html>
"#;

fn main() {
    ensure_frontend_dist();

    // A custom capabilities path is not watched by tauri-build itself.
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    // `generate_context!` embeds the icons and the built UI: rebuild when they change.
    // Every `vite build` rewrites index.html (it names the hashed assets), so watching it
    // is enough, and it is the one file this script may write.
    println!("cargo:rerun-if-changed=src-tauri/icons");
    println!("cargo:rerun-if-changed=ui/dist/index.html");

    tauri_build::try_build(
        tauri_build::Attributes::new().capabilities_path_pattern("src-tauri/capabilities/**/*"),
    )
    .expect("tauri-build failed");
}

/// Writes the placeholder page when `ui/dist/index.html` is missing; never overwrites a
/// built UI.
fn ensure_frontend_dist() {
    let index = Path::new("ui/dist/index.html");
    if index.exists() {
        return;
    }
    let dist = index.parent().expect("index.html has a parent directory");
    fs::create_dir_all(dist).expect("create ui/dist");
    fs::write(index, PLACEHOLDER_HTML).expect("write placeholder ui/dist/index.html");
    // Backdate it: a watched file newer than this run would make cargo rebuild the app
    // once more on the next build, for nothing.
    fs::File::options()
        .write(true)
        .open(index)
        .and_then(|file| file.set_modified(SystemTime::UNIX_EPOCH))
        .expect("backdate placeholder ui/dist/index.html");
    // Cargo repeats this on every build until the UI is built, which is intended.
    println!(
        "cargo:warning=ui/dist is not built; the app shows a placeholder page \
         (run `npm --prefix ui ci && npm --prefix ui run build`)"
    );
}
