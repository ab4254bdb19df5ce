use aggregato::prelude::*;

#[derive(Debug, Clone, Command)]
pub struct Open;

fn main() {}
