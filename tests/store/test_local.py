from store.suite import StoreSuite


class TestLocalStore(StoreSuite):
    backend = "local"
