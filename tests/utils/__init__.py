"""Helpers the tests share: the local test forum, synthetic rows, fake preview servers, CLI runs."""
