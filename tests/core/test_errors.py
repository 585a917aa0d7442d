from __future__ import annotations

from vidtask.core import errors


def test_docstring_is_the_default_message() -> None:
    exc = errors.NotFound()
    assert exc.message == "Not found."
    assert exc.to_dict() == {"code": "not_found", "message": "Not found."}


def test_codes_are_unique_snake_case() -> None:
    for code, cls in errors.CODES.items():
        assert cls.code == code
        assert code == code.lower() and " " not in code


def test_error_for_code_fails_closed() -> None:
    assert isinstance(errors.error_for_code("asset_fetch_failed", "x"), errors.AssetFetchFailed)
    unknown = errors.error_for_code("no_such_code", "y")
    assert type(unknown) is errors.VidtaskError and unknown.code == "internal_error"


def test_param_is_kept() -> None:
    exc = errors.InvalidRequest("bad", param="input.tracks[0]")
    assert exc.param == "input.tracks[0]" and exc.http_status == 400
    assert errors.PayloadTooLarge().http_status == 413
