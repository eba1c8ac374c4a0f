//! A script loads a compose project, changes it and prints it.

mod common;

use common::*;

#[test]
fn a_script_changes_a_service_image_and_prints_the_yaml() {
    let (_d, path) = script(&format!(
        r#"
        let p = compose::load(#{{ files: ["{repo}/examples/hitcounter/compose.yml"], project_name: "edited" }});
        p.set("web", "image", "web:canary");
        p.set("store", "ports", ["6379:6379"]);
        print(p.to_yaml());
        print(`services=${{p.services}} hash=${{p.hash("web").len()}}`);
        "#,
        repo = repo().display()
    ));
    let out = run_script(&path, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("name: edited\n"), "{text}");
    assert!(
        text.contains("  web:\n") && text.contains("    image: web:canary\n"),
        "{text}"
    );
    // The port was normalised exactly as if written in the file.
    assert!(
        text.contains(
            "      - mode: ingress\n        target: 6379\n        published: \"6379\"\n        protocol: tcp\n"
        ),
        "{text}"
    );
    // What the script did not touch is as loaded.
    assert!(text.contains("condition: service_healthy"), "{text}");
    assert!(text.contains("services=[\"store\", \"web\"] hash=64"), "{text}");
}

#[test]
fn a_bad_change_is_an_error_naming_the_attribute() {
    let (_d, path) = script(&format!(
        "let p = compose::load(#{{ files: [\"{}/examples/hitcounter/compose.yml\"] }});\np.set(\"web\", \"ports\", [\"1.2.3:80:80\"]);\n",
        repo().display()
    ));
    let out = run_script(&path, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("services.web.ports: invalid IP address: 1.2.3"),
        "{}",
        stderr(&out)
    );
}
