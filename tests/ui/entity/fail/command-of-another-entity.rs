use aggregato::prelude::*;

#[derive(Debug, Clone, Command)]
#[command(entity = Customer)]
pub struct DiscontinueProduct;

impl Handle<DiscontinueProduct> for EntityState<Product> {
    async fn handle(
        &self,
        _: DiscontinueProduct,
        _: &(),
    ) -> Result<Vec<ProductEvent>, EntityError<std::convert::Infallible>> {
        Ok(Vec::new())
    }
}

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(commands(DiscontinueProduct))]
pub struct Product {
    #[entity(id)]
    id: String,
}

#[derive(Debug, Clone, PartialEq, Entity)]
pub struct Customer {
    #[entity(id)]
    email: String,
}

fn main() {}
