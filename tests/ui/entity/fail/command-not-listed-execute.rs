use aggregato::prelude::*;

#[derive(Debug, Clone, Command)]
#[command(entity = Product)]
pub struct Discontinue;

#[derive(Debug, Clone, PartialEq, Entity)]
pub struct Product {
    #[entity(id)]
    id: String,
    name: String,
}

async fn discontinue(repository: &Repository<EntityState<Product>, InMemoryEventStore>) {
    let _ = repository.execute(&"p-1".to_owned(), Discontinue).await;
}

fn main() {
    let _ = discontinue;
}
