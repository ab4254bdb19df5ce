//! Expansion snapshots of `#[derive(Saga)]` and `#[saga_steps]`.

use quote::quote;

use crate::snapshot::pretty;

#[test]
fn derive_defaults() {
    let expansion = super::expand_derive(quote! {
        #[derive(Serialize, Deserialize, Saga)]
        pub struct Refund {
            payment: String,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn derive_all_options() {
    let expansion = super::expand_derive(quote! {
        #[derive(Serialize, Deserialize, Saga)]
        #[saga(name = "PlaceOrder", services = ShopServices, crate = ::renamed)]
        pub struct PlaceOrderSaga {
            order_id: String,
            reservation: Option<String>,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn derive_mistakes_with_stand_in() {
    let expansion = super::expand_derive(quote! {
        #[derive(Serialize, Deserialize, Saga)]
        #[saga(name = "", services = ShopServices)]
        pub enum PlaceOrder {
            Started,
        }
    });
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn steps_of_every_kind() {
    let expansion = super::expand_steps(
        quote!(),
        quote! {
            impl PlaceOrder {
                /// Holds the goods.
                #[step(compensate = release_stock, timeout_ms = 5000)]
                async fn reserve_stock(&mut self, services: &ShopServices, key: StepKey) -> StepResult {
                    services.stock.reserve(key).await
                }
                #[step(compensate = refund)]
                async fn charge_card(&mut self, services: &ShopServices, key: StepKey) -> Result<(), PaymentError> {
                    services.payments.charge(key).await
                }
                #[step(pivot)]
                async fn ship(&mut self, _services: &ShopServices, _key: StepKey) -> StepResult {
                    Ok(())
                }
                #[step(no_compensation)]
                async fn notify(&mut self, _services: &ShopServices, _key: StepKey) -> StepResult {
                    Ok(())
                }
                async fn release_stock(&mut self, _services: &ShopServices, _key: StepKey) -> StepResult {
                    Ok(())
                }
                async fn refund(&mut self, _services: &ShopServices, _key: StepKey) -> StepResult {
                    Ok(())
                }
                fn helper(&self) -> usize {
                    1
                }
            }
        },
    );
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn steps_without_compensations_and_options() {
    let expansion = super::expand_steps(
        quote!(crate = ::renamed, step_enum = Stage),
        quote! {
            impl audit::Audit {
                #[step(no_compensation)]
                async fn record(&mut self, _: &(), _: StepKey) -> StepResult {
                    Ok(())
                }
                #[step(no_compensation, timeout_ms = 250)]
                async fn r#yield(&mut self, _: &(), _: StepKey) -> StepResult {
                    Ok(())
                }
            }
        },
    );
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn steps_every_mistake_at_once() {
    let expansion = super::expand_steps(
        quote!(),
        quote! {
            impl PlaceOrder {
                #[step]
                async fn reserve_stock(&mut self, services: &ShopServices, key: StepKey) -> StepResult {
                    Ok(())
                }
                #[step(compensate = refnd, timeout_ms = 0)]
                fn charge_card(&self, services: &ShopServices) -> StepResult {
                    Ok(())
                }
                #[step(pivot)]
                async fn ship(&mut self, services: &ShopServices, key: StepKey) -> StepResult {
                    Ok(())
                }
                #[step(pivot, no_compensation)]
                async fn deliver(&mut self, services: &ShopServices, key: StepKey) -> StepResult {
                    Ok(())
                }
                #[step(pivot)]
                async fn hand_over(&mut self, services: &ShopServices, key: StepKey) -> StepResult {
                    Ok(())
                }
                #[step(compensate = refund)]
                async fn notify(&mut self, services: &ShopServices, key: StepKey) -> StepResult {
                    Ok(())
                }
                #[step(no_compensation, retries = 3)]
                async fn audit(&mut self, services: &ShopServices, key: StepKey) -> StepResult {
                    Ok(())
                }
                async fn refund(self, services: &ShopServices, key: StepKey, extra: u8) -> StepResult {
                    Ok(())
                }
            }
        },
    );
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn steps_on_a_trait_impl() {
    let expansion = super::expand_steps(
        quote!(),
        quote! {
            impl Default for PlaceOrder {
                #[step(pivot)]
                fn default() -> Self {
                    Self
                }
            }
        },
    );
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn steps_block_shape_mistakes() {
    let expansion = super::expand_steps(
        quote!(step_enum = PlaceOrder),
        quote! {
            impl PlaceOrder<u8> {
                #[step(pivot)]
                const LIMIT: u8 = 3;
                #[step(no_compensation)]
                #[step(timeout_ms = 10)]
                async fn charge_card(&mut self, _: &(), _: StepKey) -> StepResult {
                    Ok(())
                }
                #[step(no_compensation)]
                async fn charge__card(&mut self, _: &(), _: StepKey) -> StepResult {
                    Ok(())
                }
            }
        },
    );
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn steps_on_something_else() {
    let expansion = super::expand_steps(
        quote!(),
        quote! {
            struct PlaceOrder;
        },
    );
    insta::assert_snapshot!(pretty(expansion));
}

#[test]
fn derive_generic_services() {
    let expansion = super::expand_derive(quote! {
        #[derive(Serialize, Deserialize, Saga)]
        #[saga(services = (Arc<dyn Payments + Send + Sync>, HashMap<String, u64>))]
        pub struct Charge {
            paid: bool,
        }
    });
    let pretty = pretty(expansion);
    assert!(!pretty.contains("compile_error"), "{pretty}");
    insta::assert_snapshot!(pretty);
}

#[test]
fn steps_arguments_are_read_beside_a_mistake() {
    let expansion = pretty(super::expand_steps(
        quote!(step_enum = OrderStep, crat = ::renamed),
        quote! {
            impl PlaceOrder {
                #[step(no_compensation)]
                async fn ship(&mut self, _services: &(), _key: StepKey) -> StepResult {
                    Ok(())
                }
            }
        },
    ));
    assert!(expansion.contains("Unknown field: `crat`"), "{expansion}");
    assert!(expansion.contains("pub enum OrderStep {"), "{expansion}");
}
