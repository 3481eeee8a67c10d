using FastGate.Gateway.Configuration;
using static FastGate.Gateway.Tests.Configuration.ConfigTestFiles;

namespace FastGate.Gateway.Tests.Configuration;

// One test per kind of error of [auth.*], [rate_limits.*], [redis], [ip_filters.*], [cache] and the route
// keys that use them, each asserting the whole line `fastgate validate` prints.
public sealed class SecurityConfigErrorTests : IDisposable
{
    /// <summary>An auth section without algorithms and key source (4 lines).</summary>
    private const string AuthHead = """
        [auth.default]
        type = "jwt"
        issuer = "https://issuer.example"
        audiences = ["fastgate"]

        """;

    /// <summary>A complete auth section (6 lines).</summary>
    private const string ValidAuth = AuthHead + """
        algorithms = ["RS256"]
        jwks_url = "https://issuer.example/jwks.json"

        """;

    /// <summary>A complete rate limit section (4 lines).</summary>
    private const string RateLimitHead = """
        [rate_limits.per_client]
        rate = 100
        per = "1s"
        key = "client_ip"

        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("fastgate-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string[] ErrorsIn(string toml)
    {
        var result = GatewayConfigLoader.Load(toml, FileName, _directory);
        return result.Errors.Select(error => error.ToString()).ToArray();
    }

    // [auth.NAME]

    [Fact]
    public void Inline_secret_is_refused()
    {
        Assert.Equal(
            "routes.toml:7:1: secrets are never read from the route file; use secret_env or secret_file",
            Error(ValidAuth + "secret = \"hunter2\""));
    }

    [Fact]
    public void Auth_type_is_required()
    {
        Assert.Equal(
            "routes.toml:1:1: missing 'type' in [auth.default]: expected type = \"jwt\"",
            Error(ValidAuth.Replace("type = \"jwt\"\n", "", StringComparison.Ordinal)));
    }

    [Fact]
    public void Auth_type_other_than_jwt()
    {
        Assert.Equal(
            "routes.toml:2:8: unknown auth type 'jwk' (did you mean 'jwt'?): expected \"jwt\"",
            Error(ValidAuth.Replace("\"jwt\"", "\"jwk\"", StringComparison.Ordinal)));
    }

    [Fact]
    public void Issuer_is_required()
    {
        Assert.Equal(
            "routes.toml:1:1: missing 'issuer' in [auth.default]",
            Error(ValidAuth.Replace("issuer = \"https://issuer.example\"\n", "", StringComparison.Ordinal)));
    }

    [Fact]
    public void Audiences_must_not_be_empty()
    {
        Assert.Equal(
            "routes.toml:4:13: 'audiences' of [auth.default] needs at least one audience",
            Error(ValidAuth.Replace("[\"fastgate\"]", "[]", StringComparison.Ordinal)));
    }

    [Fact]
    public void Algorithm_none_is_never_accepted()
    {
        Assert.Equal(
            "routes.toml:5:24: invalid algorithm 'none' in [auth.default]: unsecured tokens are never accepted (RFC 8725 §3.1); "
            + "expected one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512",
            Error(ValidAuth.Replace("[\"RS256\"]", "[\"RS256\", \"none\"]", StringComparison.Ordinal)));
    }

    [Fact]
    public void Unknown_algorithm_names_the_allowed_list()
    {
        Assert.Equal(
            "routes.toml:5:15: invalid algorithm 'RS265' in [auth.default]: unknown algorithm (did you mean 'RS256'?); "
            + "expected one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512",
            Error(ValidAuth.Replace("RS256", "RS265", StringComparison.Ordinal)));
    }

    [Fact]
    public void Algorithm_listed_twice()
    {
        Assert.Equal(
            "routes.toml:5:24: algorithm 'RS256' is listed twice in [auth.default]",
            Error(ValidAuth.Replace("[\"RS256\"]", "[\"RS256\", \"rs256\"]", StringComparison.Ordinal)));
    }

    [Fact]
    public void Algorithms_are_required()
    {
        Assert.Equal(
            "routes.toml:1:1: missing 'algorithms' in [auth.default]: list the accepted ones, like [\"RS256\"]",
            Error(AuthHead + "jwks_url = \"https://issuer.example/jwks.json\""));
    }

    [Fact]
    public void Hmac_algorithm_with_a_key_set_is_algorithm_confusion()
    {
        Assert.Equal(
            "routes.toml:5:24: algorithm 'HS256' in [auth.default] needs an HMAC secret from 'secret_env' or 'secret_file', not a key set",
            Error(ValidAuth.Replace("[\"RS256\"]", "[\"RS256\", \"HS256\"]", StringComparison.Ordinal)));
    }

    [Fact]
    public void Public_key_algorithm_with_an_hmac_secret()
    {
        File.WriteAllText(Path.Combine(_directory, "secret.key"), "0123456789abcdef0123456789abcdef");
        Assert.Equal(
            ["routes.toml:5:15: algorithm 'ES256' in [auth.default] needs a key set from 'jwks_file' or 'jwks_url', not an HMAC secret"],
            ErrorsIn(AuthHead + "algorithms = [\"ES256\"]\nsecret_file = \"secret.key\""));
    }

    [Fact]
    public void Key_source_is_required()
    {
        Assert.Equal(
            "routes.toml:1:1: [auth.default] has no key source: give one of jwks_file, jwks_url, secret_env, secret_file",
            Error(AuthHead + "algorithms = [\"RS256\"]"));
    }

    [Fact]
    public void Two_key_sources_are_an_error_at_the_second()
    {
        Assert.Equal(
            "routes.toml:7:1: 'secret_env' and 'jwks_url' are both given in [auth.default]: give exactly one key source",
            Error(ValidAuth + "secret_env = \"PATH\""));
    }

    [Fact]
    public void Jwks_file_must_exist_relative_to_the_route_file()
    {
        var expected = Path.Combine(_directory, "keys", "jwks.json");
        Assert.Equal(
            [$"routes.toml:6:13: 'jwks_file' of [auth.default] names 'keys/jwks.json', which is not a file (looked for '{expected}')"],
            ErrorsIn(AuthHead + "algorithms = [\"RS256\"]\njwks_file = \"keys/jwks.json\""));
    }

    [Fact]
    public void Secret_file_must_exist()
    {
        var expected = Path.Combine(_directory, "secret.key");
        Assert.Equal(
            [$"routes.toml:6:15: 'secret_file' of [auth.default] names 'secret.key', which is not a file (looked for '{expected}')"],
            ErrorsIn(AuthHead + "algorithms = [\"HS256\"]\nsecret_file = \"secret.key\""));
    }

    [Fact]
    public void Jwks_url_must_be_http_or_https()
    {
        Assert.Equal(
            "routes.toml:6:12: invalid 'jwks_url' 'ftp://issuer.example/jwks.json' in [auth.default]: expected an absolute http:// or https:// URL",
            Error(ValidAuth.Replace("https://issuer.example/jwks", "ftp://issuer.example/jwks", StringComparison.Ordinal)));
    }

    [Fact]
    public void Secret_env_must_be_set_and_its_value_is_never_printed()
    {
        var name = $"FASTGATE_TEST_SECRET_{Guid.NewGuid():N}";
        var toml = AuthHead + $"algorithms = [\"HS256\"]\nsecret_env = \"{name}\"";
        Assert.Equal(
            $"routes.toml:6:14: environment variable '{name}' named by 'secret_env' of [auth.default] is not set or empty",
            Error(toml));
        Environment.SetEnvironmentVariable(name, "s3cret-value-0123456789abcdef0123");
        try
        {
            Assert.Empty(Errors(toml));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public void Secret_env_must_be_a_variable_name()
    {
        Assert.Equal(
            "routes.toml:6:14: invalid 'secret_env' 'JWT-SECRET' in [auth.default]: expected an environment variable name like \"JWT_SECRET\"",
            Error(AuthHead + "algorithms = [\"HS256\"]\nsecret_env = \"JWT-SECRET\""));
    }

    [Fact]
    public void Clock_skew_is_at_most_five_minutes()
    {
        Assert.Equal(
            "routes.toml:7:14: 'clock_skew' of [auth.default] must be at most 5m, not 10m",
            Error(ValidAuth + "clock_skew = \"10m\""));
    }

    [Fact]
    public void Jwks_refresh_only_applies_to_jwks_url()
    {
        File.WriteAllText(Path.Combine(_directory, "jwks.json"), "{\"keys\":[]}");
        Assert.Equal(
            ["routes.toml:7:1: 'jwks_refresh' only applies with 'jwks_url' ([auth.default])"],
            ErrorsIn(AuthHead + "algorithms = [\"RS256\"]\njwks_file = \"jwks.json\"\njwks_refresh = \"1m\""));
    }

    [Fact]
    public void Forward_claims_header_must_be_a_token()
    {
        Assert.Equal(
            "routes.toml:7:26: invalid header name 'X User' for claim 'sub' in [auth.default]: a header name is a token like \"X-User-Id\"",
            Error(ValidAuth + "forward_claims = { sub = \"X User\" }"));
    }

    [Fact]
    public void Forward_claims_never_write_hop_by_hop_or_framing_headers()
    {
        Assert.Equal(
            [
                "routes.toml:7:26: claim 'sub' in [auth.default] cannot be forwarded as 'host': Host is managed by the gateway",
                "routes.toml:7:40: claim 'act' in [auth.default] cannot be forwarded as 'Connection': Connection is managed by the gateway",
                "routes.toml:7:60: claim 'len' in [auth.default] cannot be forwarded as 'Content-Length': Content-Length is managed by the gateway",
            ],
            Errors(ValidAuth + "forward_claims = { sub = \"host\", act = \"Connection\", len = \"Content-Length\" }"));
    }

    [Fact]
    public void Forward_claims_header_receives_one_claim()
    {
        Assert.Equal(
            "routes.toml:7:42: header 'x-user' receives two claims in [auth.default]",
            Error(ValidAuth + "forward_claims = { sub = \"X-User\", uid = \"x-user\" }"));
    }

    [Fact]
    public void Forward_claims_value_must_be_a_string()
    {
        Assert.Equal(
            "routes.toml:7:26: each value of 'forward_claims' in [auth.default] must be a header name string, not an integer",
            Error(ValidAuth + "forward_claims = { sub = 1 }"));
    }

    [Fact]
    public void Unknown_key_in_auth_suggests_the_closest()
    {
        Assert.Equal(
            "routes.toml:7:1: unknown key 'audience' in [auth.default] (did you mean 'audiences'?)",
            Error(ValidAuth + "audience = \"x\""));
    }

    [Fact]
    public void Auth_item_must_be_a_table()
    {
        Assert.Equal(
            "routes.toml:2:11: auth 'default' must be a table, not a string",
            Error("[auth]\ndefault = \"jwt\""));
    }

    [Fact]
    public void Section_name_must_be_a_valid_name()
    {
        Assert.Equal(
            "routes.toml:1:7: invalid name 'a b' in [auth.a b]: use only letters, digits, '_', '.' and '-'",
            Error(ValidAuth.Replace("[auth.default]", "[auth.\"a b\"]", StringComparison.Ordinal)));
    }

    // [rate_limits.NAME]

    [Fact]
    public void Rate_and_per_are_required()
    {
        Assert.Equal(
            [
                "routes.toml:1:1: missing 'rate' in [rate_limits.x]",
                "routes.toml:1:1: missing 'per' in [rate_limits.x]",
            ],
            Errors("[rate_limits.x]\nkey = \"route\""));
    }

    [Fact]
    public void Rate_and_burst_are_at_least_one()
    {
        Assert.Equal(
            [
                "routes.toml:2:8: 'rate' must be at least 1, not 0",
                "routes.toml:5:9: 'burst' must be at least 1, not 0",
            ],
            Errors(RateLimitHead.Replace("rate = 100", "rate = 0", StringComparison.Ordinal) + "burst = 0"));
    }

    [Fact]
    public void Rate_limit_key_is_required()
    {
        Assert.Equal(
            "routes.toml:1:1: missing 'key' in [rate_limits.per_client]: expected \"client_ip\", \"route\", \"claim:NAME\" or \"header:NAME\"",
            Error(RateLimitHead.Replace("key = \"client_ip\"\n", "", StringComparison.Ordinal)));
    }

    [Fact]
    public void Rate_limit_key_form()
    {
        Assert.Equal(
            "routes.toml:4:7: invalid key 'header:X User' in [rate_limits.per_client]: expected \"client_ip\", \"route\", \"claim:NAME\" or \"header:NAME\"",
            Error(RateLimitHead.Replace("client_ip", "header:X User", StringComparison.Ordinal)));
    }

    [Fact]
    public void Redis_store_needs_a_redis_section()
    {
        Assert.Equal(
            "routes.toml:5:9: store = \"redis\" in [rate_limits.per_client] needs a [redis] section",
            Error(RateLimitHead + "store = \"redis\""));
    }

    [Fact]
    public void Unknown_store()
    {
        Assert.Equal(
            "routes.toml:5:9: unknown store 'redsi' (did you mean 'redis'?) in [rate_limits.per_client]: expected local or redis",
            Error(RateLimitHead + "store = \"redsi\""));
    }

    [Fact]
    public void Unknown_store_failure_mode()
    {
        Assert.Equal(
            "routes.toml:6:20: unknown on_store_failure 'close' (did you mean 'closed'?) in [rate_limits.per_client]: expected open or closed",
            Error(RateLimitHead + "store = \"redis\"\non_store_failure = \"close\"\n[redis]\naddress = \"127.0.0.1:6379\""));
    }

    [Fact]
    public void Store_failure_mode_only_applies_to_redis()
    {
        Assert.Equal(
            "routes.toml:5:1: 'on_store_failure' only applies to store = \"redis\" ([rate_limits.per_client])",
            Error(RateLimitHead + "on_store_failure = \"closed\""));
    }

    [Fact]
    public void Claim_keyed_rate_limit_needs_auth_on_the_route()
    {
        Assert.Equal(
            "routes.toml:8:14: rate limit 'per_user' of route 'users' is keyed by claim 'sub', which needs 'auth' on the route",
            Error(ValidUpstreamAndRoute + "\nrate_limit = \"per_user\"\n[rate_limits.per_user]\nrate = 10\nper = \"1m\"\nkey = \"claim:sub\""));
    }

    // [redis]

    [Fact]
    public void Redis_address_is_required()
    {
        Assert.Equal("routes.toml:1:1: missing 'address' in [redis]", Error("[redis]\nkey_prefix = \"gw:\""));
    }

    [Fact]
    public void Redis_address_form()
    {
        Assert.Equal(
            "routes.toml:2:11: invalid endpoint '127.0.0.1' in [redis]: the port is missing; expected \"host:port\" like \"127.0.0.1:9001\", \"[::1]:9001\" or \"localhost:9001\"",
            Error("[redis]\naddress = \"127.0.0.1\""));
    }

    [Fact]
    public void Unknown_key_in_redis()
    {
        Assert.Equal(
            "routes.toml:3:1: unknown key 'prefix' in [redis]",
            Error("[redis]\naddress = \"127.0.0.1:6379\"\nprefix = \"gw:\""));
    }

    // [ip_filters.NAME]

    [Fact]
    public void Ip_filter_network_with_bits_past_the_prefix()
    {
        Assert.Equal(
            "routes.toml:2:23: network '10.0.0.1/8' in [ip_filters.internal] has bits set past its prefix (did you mean '10.0.0.0/8'?)",
            Error("[ip_filters.internal]\nallow = [\"127.0.0.1\", \"10.0.0.1/8\"]"));
    }

    [Fact]
    public void Ip_filter_invalid_network()
    {
        Assert.Equal(
            "routes.toml:2:9: invalid network '10.0.0.0/33' in [ip_filters.internal]: expected an IP address or a network like \"10.0.0.0/8\" or \"fd00::/8\"",
            Error("[ip_filters.internal]\ndeny = [\"10.0.0.0/33\"]"));
    }

    [Fact]
    public void Ip_filter_without_networks()
    {
        Assert.Equal(
            "routes.toml:1:1: [ip_filters.internal] lists no network in 'allow' or 'deny'",
            Error("[ip_filters.internal]\nallow = []\ndeny = []"));
    }

    // [cache]

    [Fact]
    public void Cache_max_bytes_is_at_least_one()
    {
        Assert.Equal("routes.toml:2:13: 'max_bytes' must be at least 1, not 0", Error("[cache]\nmax_bytes = 0"));
    }

    [Fact]
    public void Unknown_key_in_cache_section()
    {
        Assert.Equal(
            "routes.toml:2:1: unknown key 'max_byte' in [cache] (did you mean 'max_bytes'?)",
            Error("[cache]\nmax_byte = \"1MiB\""));
    }

    // Route keys

    [Fact]
    public void Route_names_an_undefined_auth()
    {
        Assert.Equal(
            "routes.toml:8:8: route 'users' names auth 'defualt' which is not defined (did you mean 'default'?)",
            Error(ValidUpstreamAndRoute + "\nauth = \"defualt\"\n" + ValidAuth));
    }

    [Fact]
    public void Route_names_an_undefined_rate_limit()
    {
        Assert.Equal(
            "routes.toml:8:14: route 'users' names rate limit 'per-client' which is not defined (did you mean 'per_client'?)",
            Error(ValidUpstreamAndRoute + "\nrate_limit = \"per-client\"\n" + RateLimitHead));
    }

    [Fact]
    public void Route_names_an_undefined_ip_filter()
    {
        Assert.Equal(
            "routes.toml:8:13: route 'users' names IP filter 'internal' which is not defined",
            Error(ValidUpstreamAndRoute + "\nip_filter = \"internal\""));
    }

    [Fact]
    public void Require_without_auth()
    {
        Assert.Equal(
            "routes.toml:8:1: 'require' in route 'users' needs 'auth': there is no caller to check without it",
            Error(ValidUpstreamAndRoute + "\nrequire = { scopes = [\"users:read\"] }"));
    }

    [Fact]
    public void Require_scope_is_one_token()
    {
        Assert.Equal(
            "routes.toml:9:30: invalid scope 'users read' in route 'users': a scope is one printable token without spaces, '\"' or '\\' (RFC 6749 §3.3)",
            Error(ValidUpstreamAndRoute + "\nauth = \"default\"\nrequire = { scopes = [\"a:b\", \"users read\"] }\n" + ValidAuth));
    }

    [Fact]
    public void Require_claim_with_no_values()
    {
        Assert.Equal(
            "routes.toml:9:33: claim 'tenant' in the require of route 'users' must be a string or a non-empty array of strings: no value could ever match",
            Error(ValidUpstreamAndRoute + "\nauth = \"default\"\nrequire = { claims = { tenant = [] } }\n" + ValidAuth));
    }

    [Fact]
    public void Require_claim_value_of_another_type()
    {
        Assert.Equal(
            "routes.toml:9:39: each value of claim 'tenant' in the require of route 'users' must be a string, not an integer",
            Error(ValidUpstreamAndRoute + "\nauth = \"default\"\nrequire = { claims = { tenant = [\"a\", 7] } }\n" + ValidAuth));
    }

    [Fact]
    public void Unknown_key_in_require()
    {
        Assert.Equal(
            "routes.toml:9:13: unknown key 'scope' in the require of route 'users' (did you mean 'scopes'?)",
            Error(ValidUpstreamAndRoute + "\nauth = \"default\"\nrequire = { scope = [\"a\"] }\n" + ValidAuth));
    }

    [Fact]
    public void Cache_needs_a_get_or_head_route()
    {
        Assert.Equal(
            "routes.toml:6:1: 'cache' in route 'users' needs a route that answers GET or HEAD, not only POST, PUT",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]
                [[routes]]
                name = "users"
                match = { path = "/users/{id}", methods = ["POST", "PUT"] }
                cache = { ttl = "30s" }
                upstream = "users"
                """));
    }

    [Fact]
    public void Cache_ttl_is_required()
    {
        Assert.Equal(
            "routes.toml:8:1: missing 'ttl' in the cache of route 'users'",
            Error(ValidUpstreamAndRoute + "\ncache = { vary = [\"Accept\"] }"));
    }

    [Fact]
    public void Cache_vary_names_headers()
    {
        Assert.Equal(
            "routes.toml:8:42: invalid header name 'Accept Language' in 'vary' of route 'users': a header name is a token like \"Accept\"",
            Error(ValidUpstreamAndRoute + "\ncache = { ttl = \"30s\", vary = [\"Accept\", \"Accept Language\"] }"));
    }

    [Fact]
    public void Unknown_key_in_route_cache()
    {
        Assert.Equal(
            "routes.toml:8:24: unknown key 'allow_authorisation' in the cache of route 'users' (did you mean 'allow_authorization'?)",
            Error(ValidUpstreamAndRoute + "\ncache = { ttl = \"30s\", allow_authorisation = true }"));
    }

    [Fact]
    public void Issuer_and_audiences_must_not_be_empty_strings()
    {
        Assert.Equal(
            [
                "routes.toml:3:10: 'issuer' of [auth.default] must not be empty",
                "routes.toml:4:26: an audience of [auth.default] must not be empty",
            ],
            Errors(ValidAuth.Replace("\"https://issuer.example\"\n", "\"\"\n", StringComparison.Ordinal)
                .Replace("[\"fastgate\"]", "[\"fastgate\", \"\"]", StringComparison.Ordinal)));
    }

    [Fact]
    public void Jwks_url_must_be_absolute()
    {
        Assert.Equal(
            "routes.toml:6:12: invalid 'jwks_url' '/jwks.json' in [auth.default]: expected an absolute http:// or https:// URL",
            Error(ValidAuth.Replace("https://issuer.example/jwks.json", "/jwks.json", StringComparison.Ordinal)));
    }

    [Fact]
    public void Rate_limit_item_must_be_a_table()
    {
        Assert.Equal(
            "routes.toml:2:14: rate limit 'per_client' must be a table, not an integer",
            Error("[rate_limits]\nper_client = 100"));
    }

    [Fact]
    public void Route_naming_a_broken_section_adds_no_error_of_its_own()
    {
        Assert.Equal(
            "routes.toml:9:1: [auth.default] has no key source: give one of jwks_file, jwks_url, secret_env, secret_file",
            Error(ValidUpstreamAndRoute + "\nauth = \"default\"\n" + AuthHead + "algorithms = [\"RS256\"]"));
    }

    [Fact]
    public void Require_role_must_not_be_empty()
    {
        Assert.Equal(
            "routes.toml:9:27: a role in route 'users' must not be empty",
            Error(ValidUpstreamAndRoute + "\nauth = \"default\"\nrequire = { roles = [\"a\", \"\"] }\n" + ValidAuth));
    }

    [Fact]
    public void Require_claim_of_another_type()
    {
        Assert.Equal(
            "routes.toml:9:32: claim 'level' in the require of route 'users' must be a string or a non-empty array of strings, not an integer",
            Error(ValidUpstreamAndRoute + "\nauth = \"default\"\nrequire = { claims = { level = 3 } }\n" + ValidAuth));
    }
}
