from netbuilder.runtime.cache_folder import CACHE_VARIABLE, cache_folder, cache_root


def test_the_tests_never_use_the_real_cache():
    assert cache_root().name.startswith("netbuilder-pytest-cache-")


def test_a_kind_gets_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path / "c"))
    folder = cache_folder("data")
    assert folder == tmp_path / "c" / "data" and folder.is_dir()


def test_without_the_variable_it_follows_the_platform(tmp_path, monkeypatch):
    monkeypatch.delenv(CACHE_VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "netbuilder"
