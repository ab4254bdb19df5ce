use aggregato::prelude::*;

#[derive(Debug, Clone, Command)]
#[command(entity = Product)]
pub struct Discontinue;

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(commands(Discontinue))]
pub struct Product {
    #[entity(id)]
    id: String,
    name: String,
}

impl Handle<Discontinue> for Product {
    async fn handle(&self, _: Discontinue, _: &()) -> Result<Vec<ProductEvent>, EntityError<std::convert::Infallible>> {
        Ok(Vec::new())
    }
}

fn main() {}
