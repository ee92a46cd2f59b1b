//! Prints the JSON Schema of exai.yaml (the same as `exai schema`).
fn main() {
    println!("{}", serde_json::to_string_pretty(&exai_spec::schema()).unwrap_or_default());
}
