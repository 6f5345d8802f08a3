use kyaml_format::*;
#[test]
fn scratch() {
    for t in [
        "a: 1\nspec:\n  c: 1\n# foot\n",
        "a: 1\nspec:\n  c: 1\n\n# foot\n",
        "a: 1\nspec:\n  c: 1\n  # foot\n",
        "a: 1\nspec:\n  c: 1\n\n  # foot\n",
    ] {
        println!(
            "{t:?} -> {:?} split {:?}",
            round_trip(t),
            split_document_foot(t, TextFrom::File)
        );
    }
}
