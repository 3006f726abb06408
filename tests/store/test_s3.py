from store.suite import StoreSuite


class TestS3Store(StoreSuite):
    backend = "s3"
