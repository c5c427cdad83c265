"""The pass/fail ledger of the tests/check_*.py scripts: each check prints one ok/FAIL line,
and the script's exit status is 1 if any failed."""


class Checks:
    def __init__(self):
        self.fails = []

    def __call__(self, ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            self.fails.append(what)

    def status(self):
        if self.fails:
            print("%d check(s) failed" % len(self.fails))
            return 1
        return 0
