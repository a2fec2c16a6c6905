"""Settings: CONTRACT.md's defaults, the environment, the TOML file, and one-sentence errors."""

from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrypoints.settings import Settings, SettingsError, load_settings

META = {
    "CHATGATE_WHATSAPP_PROVIDER": "meta",
    "CHATGATE_META_ACCESS_TOKEN": "access",
    "CHATGATE_META_APP_SECRET": "app-secret",
    "CHATGATE_META_VERIFY_TOKEN": "verify",
    "CHATGATE_META_PHONE_NUMBER_ID": "1234567890",
}
TWILIO = {
    "CHATGATE_WHATSAPP_PROVIDER": "twilio",
    "CHATGATE_TWILIO_ACCOUNT_SID": "AC123",
    "CHATGATE_TWILIO_AUTH_TOKEN": "auth",
    "CHATGATE_TWILIO_FROM": "whatsapp:+14155238886",
    "CHATGATE_PUBLIC_URL": "https://bot.example.com",
}


def error_for(environ: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ)
    message = str(caught.value)
    assert_one_clean_sentence(message)
    return message


def assert_one_clean_sentence(message: str) -> None:
    assert message.endswith(".")
    assert "\n" not in message
    for noise in ("Traceback", "Error", "Expected `", "$.", "`"):
        assert noise not in message


def write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "chatgate.toml"
    path.write_text(text)
    return str(path)


def test_defaults_are_the_contracts() -> None:
    settings = load_settings({})

    assert settings.database.url == "sqlite+aiosqlite:///./var/chatgate.db"
    assert settings.database.is_sqlite
    assert settings.redis.url is None
    assert settings.worker.in_serve is True
    assert settings.bot.name == "demo"
    assert settings.admin.token is None
    assert settings.http.public_url is None
    assert settings.whatsapp.provider is None
    assert not settings.whatsapp.enabled
    assert settings.twilio.api_base == "https://api.twilio.com"
    assert settings.meta.api_base == "https://graph.facebook.com/v21.0"
    assert settings.waha.session == "default"
    assert settings.waha.hmac_key is None
    assert settings.telegram.api_base == "https://api.telegram.org"
    assert settings.telegram.admin_chat_id is None
    assert not settings.telegram.enabled
    assert settings.sheets.api_base == "https://sheets.googleapis.com"
    assert settings.events.webhook_url is None
    assert settings.limits.max_message_chars == 500
    assert settings.limits.cooldown_ms == 1500
    assert settings.limits.cooldown_seconds == 1.5
    assert settings.limits.rate_limit_per_minute == 30
    assert settings.limits.send_rate_per_second == 80
    assert settings.limits.session_ttl_hours == 24
    assert settings.limits.session_ttl_seconds == 24 * 3600


def test_defaults_need_no_environment_and_equal_a_bare_settings() -> None:
    assert load_settings({}) == Settings()


def test_environment_overrides_each_concern() -> None:
    settings = load_settings(
        {
            **META,
            "CHATGATE_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
            "CHATGATE_REDIS_URL": "redis://127.0.0.1:6379/0",
            "CHATGATE_WORKER_IN_SERVE": "false",
            "CHATGATE_BOT": "franchise_leads",
            "CHATGATE_ADMIN_TOKEN": "admin-token",
            "CHATGATE_PUBLIC_URL": "http://127.0.0.1:8000",
            "CHATGATE_META_API_BASE": "http://127.0.0.1:9000/v21.0",
            "CHATGATE_TELEGRAM_BOT_TOKEN": "123:abc",
            "CHATGATE_TELEGRAM_WEBHOOK_SECRET": "s3cret_-X",
            "CHATGATE_TELEGRAM_ADMIN_CHAT_ID": "-1001234",
            "CHATGATE_COOLDOWN_MS": "0",
            "CHATGATE_SEND_RATE_PER_SECOND": "250",
        }
    )

    assert settings.database.url.startswith("postgresql+asyncpg://")
    assert not settings.database.is_sqlite
    assert settings.redis.url == "redis://127.0.0.1:6379/0"
    assert settings.worker.in_serve is False
    assert settings.bot.name == "franchise_leads"
    assert settings.admin.token == "admin-token"
    assert settings.http.public_url == "http://127.0.0.1:8000"
    assert settings.whatsapp.provider == "meta"
    assert settings.meta.app_secret == "app-secret"
    assert settings.meta.phone_number_id == "1234567890"
    assert settings.meta.api_base == "http://127.0.0.1:9000/v21.0"
    assert settings.telegram.enabled
    assert settings.telegram.webhook_secret == "s3cret_-X"
    assert settings.telegram.admin_chat_id == -1001234
    assert settings.limits.cooldown_ms == 0
    assert settings.limits.send_rate_per_second == 250.0


def test_twilio_needs_the_public_url_its_signatures_are_checked_over() -> None:
    without = {k: v for k, v in TWILIO.items() if k != "CHATGATE_PUBLIC_URL"}
    assert "CHATGATE_PUBLIC_URL" in error_for(without)


def test_twilio_and_waha_providers_load() -> None:
    twilio = load_settings(TWILIO)
    waha = load_settings({"CHATGATE_WHATSAPP_PROVIDER": "waha", "CHATGATE_WAHA_URL": "http://waha:3000"})

    assert twilio.twilio.from_ == "whatsapp:+14155238886"
    assert twilio.twilio.account_sid == "AC123"
    assert waha.waha.url == "http://waha:3000"
    assert waha.waha.session == "default"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("false", False), ("1", True), ("0", False), ("TRUE", True), (" false ", False)],
)
def test_worker_in_serve_reads_booleans(raw: str, expected: bool) -> None:
    assert load_settings({"CHATGATE_WORKER_IN_SERVE": raw}).worker.in_serve is expected


def test_numbers_are_read_from_text() -> None:
    limits = load_settings(
        {
            "CHATGATE_MAX_MESSAGE_CHARS": "1000",
            "CHATGATE_COOLDOWN_MS": "2500",
            "CHATGATE_RATE_LIMIT_PER_MINUTE": "5",
            "CHATGATE_SEND_RATE_PER_SECOND": "12.5",
            "CHATGATE_SESSION_TTL_HOURS": "48",
        }
    ).limits

    assert (limits.max_message_chars, limits.cooldown_ms, limits.rate_limit_per_minute) == (1000, 2500, 5)
    assert limits.send_rate_per_second == 12.5
    assert limits.cooldown_seconds == 2.5
    assert limits.session_ttl_seconds == 48 * 3600


def test_a_fraction_of_an_hour_is_a_session_ttl() -> None:
    assert load_settings({"CHATGATE_SESSION_TTL_HOURS": "0.5"}).limits.session_ttl_seconds == 1800


def test_empty_values_count_as_unset() -> None:
    settings = load_settings(
        {"CHATGATE_REDIS_URL": "", "CHATGATE_WHATSAPP_PROVIDER": "", "CHATGATE_COOLDOWN_MS": " ", "CHATGATE_CONFIG": ""}
    )

    assert settings == Settings()


def test_unknown_environment_variables_are_ignored() -> None:
    environ = {"CHATGATE_TEST_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test", "CHATGATE_COOLDWN_MS": "x"}

    assert load_settings(environ) == Settings()


def test_config_file_is_read(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        'database_url = "sqlite+aiosqlite:///./other.db"\n'
        "cooldown_ms = 0\n"
        "worker_in_serve = false\n"
        "session_ttl_hours = 0.25\n"
        'whatsapp_provider = "meta"\n'
        'meta_access_token = "a"\nmeta_app_secret = "b"\nmeta_verify_token = "c"\n'
        "meta_phone_number_id = 1234567890\n"
        "telegram_admin_chat_id = -100\n"
        'telegram_bot_token = "123:abc"\n',
    )

    settings = load_settings({"CHATGATE_CONFIG": config})

    assert settings.database.url == "sqlite+aiosqlite:///./other.db"
    assert settings.limits.cooldown_ms == 0
    assert settings.worker.in_serve is False
    assert settings.limits.session_ttl_seconds == 900
    assert settings.whatsapp.provider == "meta"
    assert settings.meta.phone_number_id == "1234567890"
    assert settings.telegram.admin_chat_id == -100


def test_environment_wins_over_config_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'cooldown_ms = "not a number"\nbot = "shop_orders"\nsend_rate_per_second = 10\n')

    settings = load_settings({"CHATGATE_CONFIG": config, "CHATGATE_COOLDOWN_MS": "700", "CHATGATE_BOT": "demo"})

    assert settings.limits.cooldown_ms == 700
    assert settings.bot.name == "demo"
    assert settings.limits.send_rate_per_second == 10.0


def test_config_file_and_environment_combine_for_a_provider(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'twilio_account_sid = "AC1"\ntwilio_auth_token = "t"\n')
    environ = {"CHATGATE_CONFIG": config, "CHATGATE_WHATSAPP_PROVIDER": "twilio", "CHATGATE_TWILIO_FROM": "whatsapp:+6281234567890",
               "CHATGATE_PUBLIC_URL": "https://bot.example.com"}

    assert load_settings(environ).twilio.account_sid == "AC1"


# --- errors -------------------------------------------------------------------------------------


def test_cooldown_must_be_a_whole_number() -> None:
    assert error_for({"CHATGATE_COOLDOWN_MS": "abc"}) == (
        "CHATGATE_COOLDOWN_MS must be a whole number of milliseconds (0 or more), got 'abc'."
    )


def test_whatsapp_provider_must_be_a_known_one() -> None:
    assert error_for({"CHATGATE_WHATSAPP_PROVIDER": "whatsap"}) == (
        "CHATGATE_WHATSAPP_PROVIDER must be one of twilio, meta, waha, got 'whatsap'."
    )


@pytest.mark.parametrize(
    "missing",
    ["CHATGATE_META_ACCESS_TOKEN", "CHATGATE_META_APP_SECRET", "CHATGATE_META_VERIFY_TOKEN", "CHATGATE_META_PHONE_NUMBER_ID"],
)
def test_meta_needs_its_four_credentials(missing: str) -> None:
    environ = {key: value for key, value in META.items() if key != missing}

    assert error_for(environ) == f"{missing} is required when CHATGATE_WHATSAPP_PROVIDER is meta."


@pytest.mark.parametrize("missing", ["CHATGATE_TWILIO_ACCOUNT_SID", "CHATGATE_TWILIO_AUTH_TOKEN", "CHATGATE_TWILIO_FROM"])
def test_twilio_needs_its_account(missing: str) -> None:
    environ = {key: value for key, value in TWILIO.items() if key != missing}

    assert error_for(environ) == f"{missing} is required when CHATGATE_WHATSAPP_PROVIDER is twilio."


@pytest.mark.parametrize("sender", ["+14155238886", "whatsapp:14155238886", "whatsapp:+1 415", "sms:+14155238886"])
def test_twilio_from_must_be_a_whatsapp_sender(sender: str) -> None:
    message = error_for({**TWILIO, "CHATGATE_TWILIO_FROM": sender})

    assert message.startswith("CHATGATE_TWILIO_FROM must be a WhatsApp sender such as whatsapp:+14155238886")


def test_waha_needs_its_url() -> None:
    assert error_for({"CHATGATE_WHATSAPP_PROVIDER": "waha"}) == (
        "CHATGATE_WAHA_URL is required when CHATGATE_WHATSAPP_PROVIDER is waha."
    )


def test_telegram_admin_chat_needs_a_bot_token() -> None:
    assert error_for({"CHATGATE_TELEGRAM_ADMIN_CHAT_ID": "42"}) == (
        "CHATGATE_TELEGRAM_BOT_TOKEN is required when CHATGATE_TELEGRAM_ADMIN_CHAT_ID is set."
    )


def test_telegram_admin_chat_id_must_be_a_number() -> None:
    message = error_for({"CHATGATE_TELEGRAM_BOT_TOKEN": "1:a", "CHATGATE_TELEGRAM_ADMIN_CHAT_ID": "@admins"})

    assert message.startswith("CHATGATE_TELEGRAM_ADMIN_CHAT_ID must be a Telegram chat id")


def test_a_bad_secret_is_named_but_never_echoed() -> None:
    message = error_for({"CHATGATE_TELEGRAM_WEBHOOK_SECRET": "my secret!"})

    assert message.startswith("CHATGATE_TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters")
    assert "my secret!" not in message


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CHATGATE_MAX_MESSAGE_CHARS", "0"),
        ("CHATGATE_MAX_MESSAGE_CHARS", "many"),
        ("CHATGATE_COOLDOWN_MS", "-1"),
        ("CHATGATE_COOLDOWN_MS", "1.5"),
        ("CHATGATE_RATE_LIMIT_PER_MINUTE", "0"),
        ("CHATGATE_RATE_LIMIT_PER_MINUTE", "-3"),
        ("CHATGATE_SEND_RATE_PER_SECOND", "0"),
        ("CHATGATE_SEND_RATE_PER_SECOND", "-1.5"),
        ("CHATGATE_SEND_RATE_PER_SECOND", "fast"),
        ("CHATGATE_SESSION_TTL_HOURS", "0"),
        ("CHATGATE_SESSION_TTL_HOURS", "-0.5"),
        ("CHATGATE_SESSION_TTL_HOURS", "nan"),
        ("CHATGATE_SESSION_TTL_HOURS", "inf"),
        ("CHATGATE_WORKER_IN_SERVE", "yes please"),
    ],
)
def test_bad_numbers_and_booleans_are_named(variable: str, value: str) -> None:
    message = error_for({variable: value})

    assert message.startswith(f"{variable} must be ")
    assert message.endswith(f", got {value!r}.")


@pytest.mark.parametrize(
    "variable",
    [
        "CHATGATE_PUBLIC_URL",
        "CHATGATE_WAHA_URL",
        "CHATGATE_EVENTS_WEBHOOK_URL",
        "CHATGATE_TWILIO_API_BASE",
        "CHATGATE_META_API_BASE",
        "CHATGATE_TELEGRAM_API_BASE",
        "CHATGATE_SHEETS_API_BASE",
    ],
)
@pytest.mark.parametrize("url", ["bot.example.com", "ftp://bot.example.com", "https://"])
def test_urls_must_be_http(variable: str, url: str) -> None:
    assert error_for({variable: url}) == f"{variable} must be an http:// or https:// URL, got {url!r}."


@pytest.mark.parametrize("url", ["./var/chatgate.db", "sqlite", "postgres ql://x", "+asyncpg://x"])
def test_database_url_must_look_like_sqlalchemy(url: str) -> None:
    assert error_for({"CHATGATE_DATABASE_URL": url}).startswith("CHATGATE_DATABASE_URL must be an SQLAlchemy URL")


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://cache:6380", "unix:///run/redis.sock"])
def test_redis_url_schemes_are_accepted(url: str) -> None:
    assert load_settings({"CHATGATE_REDIS_URL": url}).redis.url == url


@pytest.mark.parametrize("url", ["127.0.0.1:6379", "http://redis", "memcached://x"])
def test_redis_url_must_name_a_redis_scheme(url: str) -> None:
    assert error_for({"CHATGATE_REDIS_URL": url}) == (
        f"CHATGATE_REDIS_URL must be a redis://, rediss:// or unix:// URL, got {url!r}."
    )


def test_sheets_spreadsheet_needs_credentials() -> None:
    assert error_for({"CHATGATE_SHEETS_SPREADSHEET_ID": "abc"}) == (
        "CHATGATE_SHEETS_CREDENTIALS is required when CHATGATE_SHEETS_SPREADSHEET_ID is set."
    )


def test_missing_config_file_is_named() -> None:
    assert error_for({"CHATGATE_CONFIG": "./x.toml"}) == "CHATGATE_CONFIG names a file that does not exist: ./x.toml."


def test_unreadable_config_file_is_named(tmp_path: Path) -> None:
    message = error_for({"CHATGATE_CONFIG": str(tmp_path)})

    assert message.startswith(f"CHATGATE_CONFIG names a file that cannot be read: {tmp_path}")


def test_unknown_config_key_is_named(tmp_path: Path) -> None:
    config = write_config(tmp_path, "cooldwn_ms = 0\n")

    message = error_for({"CHATGATE_CONFIG": config})

    assert message == f"the config file {config} has an unknown key 'cooldwn_ms' (did you mean 'cooldown_ms'?)."


def test_several_unknown_config_keys_are_all_named(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'zzz = 1\n[limits]\ncooldown_ms = 0\n')

    assert error_for({"CHATGATE_CONFIG": config}) == f"the config file {config} has unknown keys 'limits', 'zzz'."


def test_invalid_toml_is_named(tmp_path: Path) -> None:
    config = write_config(tmp_path, "cooldown_ms = \n")

    assert error_for({"CHATGATE_CONFIG": config}).startswith(f"the config file {config} is not valid TOML")


def test_a_bad_value_in_the_config_file_names_its_key_and_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'cooldown_ms = "abc"\n')

    assert error_for({"CHATGATE_CONFIG": config}) == (
        f"cooldown_ms in the config file {config} must be a whole number of milliseconds (0 or more), got 'abc'."
    )


def test_a_wrongly_typed_value_in_the_config_file_is_named(tmp_path: Path) -> None:
    config = write_config(tmp_path, "worker_in_serve = [true]\nbot = true\n")

    message = error_for({"CHATGATE_CONFIG": config})

    assert message.startswith(f"worker_in_serve in the config file {config} must be true or false")


def test_a_provider_chosen_in_the_config_file_names_it_in_the_requirement(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'whatsapp_provider = "waha"\n')

    assert error_for({"CHATGATE_CONFIG": config}) == (
        f"CHATGATE_WAHA_URL is required when whatsapp_provider in the config file {config} is waha."
    )


def test_settings_error_carries_the_key() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"CHATGATE_COOLDOWN_MS": "abc"})

    assert caught.value.key == "cooldown_ms"


def test_settings_are_frozen_and_forbid_unknown_fields() -> None:
    settings = Settings()

    with pytest.raises(AttributeError):
        settings.limits.cooldown_ms = 0  # type: ignore[misc]
    with pytest.raises(msgspec.ValidationError, match="cooldwn_ms"):
        msgspec.convert({"limits": {"cooldwn_ms": 0}}, Settings)


@given(st.integers(min_value=0, max_value=10**9))
def test_any_non_negative_whole_cooldown_is_read(cooldown: int) -> None:
    assert load_settings({"CHATGATE_COOLDOWN_MS": str(cooldown)}).limits.cooldown_ms == cooldown


@given(st.text(alphabet="abcxyz !@#", min_size=1).filter(lambda text: text.strip()))
def test_any_non_numeric_cooldown_is_named(text: str) -> None:
    with pytest.raises(SettingsError, match="^CHATGATE_COOLDOWN_MS must be a whole number"):
        load_settings({"CHATGATE_COOLDOWN_MS": text})
