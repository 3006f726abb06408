from store.suite import StoreSuite


class TestMemoryStore(StoreSuite):
    backend = "memory"
