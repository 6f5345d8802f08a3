fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let mut p = saphyr_parser::Parser::new_from_str(&text);
    while let Some(Ok((ev, span))) = p.next_event() {
        println!(
            "{:?} {}:{}-{}:{}",
            ev,
            span.start.line(),
            span.start.col(),
            span.end.line(),
            span.end.col()
        );
    }
}
