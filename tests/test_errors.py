"""One exception hierarchy; each class is also the builtin that older code catches."""

import pytest

from hepjax import errors


def test_one_hierarchy_with_the_old_import_paths():
    from hepjax.config import ConfigError
    from hepjax.config.schema import ConfigError as SchemaConfigError
    from hepjax.data import CacheError
    from hepjax.data.cache import CacheError as CacheCacheError

    assert ConfigError is SchemaConfigError is errors.ConfigError
    assert CacheError is CacheCacheError is errors.CacheError
    for cls, builtin in [
        (errors.ConfigError, ValueError),
        (errors.DataError, ValueError),
        (errors.CacheError, RuntimeError),
        (errors.CheckpointError, FileNotFoundError),
        (errors.MissingExtraError, ImportError),
    ]:
        assert issubclass(cls, errors.HepjaxError) and issubclass(cls, builtin), cls
    assert not issubclass(ValueError, errors.HepjaxError)


def test_missing_extra_names_what_to_install():
    err = errors.MissingExtraError("torch", "bench", "the tracking bench peer")
    assert str(err) == "torch is not installed (needed by the tracking bench peer): pip install 'hepjax[bench]'"
    assert err.name == "torch" and err.extra == "bench"
    with pytest.raises(ImportError):
        raise err
