use aggregato::prelude::*;

#[derive(Debug, Clone, PartialEq, Entity)]
pub struct Product(String, u64);

fn main() {}
