fn main() {
    let t = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    print!("{}", kyaml_format::unwrap_resource_list(&t).unwrap());
}
