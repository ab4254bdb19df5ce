use aggregato::prelude::*;

#[derive(Debug, Clone, Command)]
#[command(aggregat = Account)]
pub struct Open;

fn main() {}
