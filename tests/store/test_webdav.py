from store.suite import StoreSuite


class TestWebdavStore(StoreSuite):
    backend = "webdav"
