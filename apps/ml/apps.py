from django.apps import AppConfig


class MlConfig(AppConfig):
    name = "apps.ml"
    label = "ml"
    verbose_name = "Machine learning"

    def ready(self) -> None:
        # Explicit registration (no dynamic loading): other apps do the same in their ready().
        from apps.ml import registry, trainers

        registry.register(
            trainers.PRODUCT_POPULARITY,
            trainers.product_popularity_train,
            description=(
                "Time-decayed product popularity from purchases, add-to-carts and views: "
                "the cold-start ranking."
            ),
            default_params=trainers.PRODUCT_POPULARITY_DEFAULTS,
            validate_params=trainers.product_popularity_validate,
        )
        registry.register(
            trainers.SELFTEST,
            trainers.selftest_train,
            description=(
                "Runner self-test: sleeps `seconds` reporting progress (fails halfway with "
                "`fail`). Checks workers end to end; its versions serve nothing."
            ),
            default_params=trainers.SELFTEST_DEFAULTS,
            validate_params=trainers.selftest_validate,
            train_all=False,
        )
