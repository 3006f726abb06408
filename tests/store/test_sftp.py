from store.suite import StoreSuite


class TestSftpStore(StoreSuite):
    backend = "sftp"
