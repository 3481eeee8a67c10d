using FastGate.Gateway.Configuration;
using static FastGate.Gateway.Tests.Configuration.ConfigTestFiles;

namespace FastGate.Gateway.Tests.Configuration;

// One test per kind of error, each asserting the whole line `fastgate validate` prints.
public class ConfigErrorTests
{
    [Fact]
    public void Error_prints_as_file_line_column_message()
    {
        Assert.Equal("a.toml:3:7: boom", new ConfigError("a.toml", 3, 7, "boom").ToString());
    }

    [Fact]
    public void Toml_syntax_errors_are_reported_at_their_positions_one_per_line()
    {
        Assert.Equal(
            [
                "routes.toml:2:9: Unexpected token end-of-line found while expecting a value",
                "routes.toml:3:3: Unexpected token found `<eof>` (token: `eof`) while expecting `]` (token: `closebracket`)",
            ],
            Errors("""
                [server]
                listen =
                [x
                """));
    }

    [Fact]
    public void Toml_duplicate_key_is_reported_at_the_second_definition()
    {
        Assert.Equal(
            "routes.toml:3:1: The key `server.listen` is already defined at (2,1) and cannot be redefined",
            Error("""
                [server]
                listen = ["127.0.0.1:8080"]
                listen = ["127.0.0.1:8081"]
                """));
    }

    [Fact]
    public void Unknown_key_suggests_the_closest_known_key()
    {
        Assert.Equal(
            "routes.toml:3:1: unknown key 'balanse' in [upstreams.users] (did you mean 'balance'?)",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]
                balanse = "p2c"
                """));
    }

    [Fact]
    public void Unknown_key_far_from_every_known_key_has_no_suggestion()
    {
        Assert.Equal(
            "routes.toml:2:1: unknown key 'colour' in [server]",
            Error("""
                [server]
                colour = "blue"
                """));
    }

    [Fact]
    public void Unknown_section_is_an_unknown_key_of_the_file()
    {
        Assert.Equal(
            "routes.toml:1:2: unknown key 'servers' in the route file (did you mean 'server'?)",
            Error("""
                [servers]
                listen = ["127.0.0.1:8080"]
                """));
    }

    [Fact]
    public void Unknown_key_in_a_route_names_the_route()
    {
        Assert.Equal(
            "routes.toml:8:1: unknown key 'upstrem' in route 'users' (did you mean 'upstream'?)",
            Error(ValidUpstreamAndRoute + "\nupstrem = \"users\""));
    }

    [Fact]
    public void Unknown_key_in_match_names_the_route()
    {
        Assert.Equal(
            "routes.toml:6:33: unknown key 'method' in the match of route 'users' (did you mean 'methods'?)",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]

                [[routes]]
                name = "users"
                match = { path = "/users/{id}", method = ["GET"] }
                upstream = "users"
                """));
    }

    [Fact]
    public void Wrong_type_names_the_key_and_both_types()
    {
        Assert.Equal(
            "routes.toml:8:11: 'retries' must be an integer, not a string",
            Error(ValidUpstreamAndRoute + "\nretries = \"2\""));
    }

    [Fact]
    public void Wrong_type_of_an_array_item_is_reported_at_the_item()
    {
        Assert.Equal(
            "routes.toml:2:29: each item of 'listen' must be a string, not an integer",
            Error("""
                [server]
                listen = ["127.0.0.1:8080", 8081]
                """));
    }

    [Fact]
    public void Section_that_is_not_a_table_is_a_type_error()
    {
        Assert.Equal("routes.toml:1:10: 'server' must be a table, not a string", Error("server = \"127.0.0.1:8080\""));
    }

    [Fact]
    public void Route_action_of_a_later_version_is_rejected_without_asking_for_an_upstream()
    {
        Assert.Equal(
            "routes.toml:4:1: 'grpc' is not supported yet (route 'greeter')",
            Error("""
                [[routes]]
                name = "greeter"
                match = { path = "/v1/greeter/{name}" }
                grpc = { upstream = "greeter" }
                """));
    }

    [Fact]
    public void Route_without_upstream_is_an_error_at_its_header()
    {
        Assert.Equal(
            "routes.toml:1:1: route 'orders' has no 'upstream' to send its requests to",
            Error("""
                [[routes]]
                name = "orders"
                match = { path = "/orders" }
                """));
    }

    [Fact]
    public void Undefined_upstream_suggests_the_closest_defined_one()
    {
        Assert.Equal(
            "routes.toml:7:12: route 'orders' names upstream 'order' which is not defined (did you mean 'orders'?)",
            Error("""
                [upstreams.orders]
                endpoints = ["127.0.0.1:9001"]

                [[routes]]
                name = "orders"
                match = { path = "/orders" }
                upstream = "order"
                """));
    }

    [Fact]
    public void Route_without_name_is_numbered()
    {
        Assert.Equal(
            [
                "routes.toml:4:1: missing 'name' in route #1",
            ],
            Errors("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]

                [[routes]]
                match = { path = "/users" }
                upstream = "users"
                """));
    }

    [Fact]
    public void Route_without_match_is_an_error()
    {
        Assert.Equal(
            "routes.toml:4:1: missing 'match' in route 'users'",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]

                [[routes]]
                name = "users"
                upstream = "users"
                """));
    }

    [Fact]
    public void Match_without_path_is_an_error_at_match()
    {
        Assert.Equal(
            "routes.toml:6:1: missing 'path' in the match of route 'users'",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]

                [[routes]]
                name = "users"
                match = { methods = ["GET"] }
                upstream = "users"
                """));
    }

    [Fact]
    public void Invalid_route_name_is_an_error_at_the_name()
    {
        Assert.Equal(
            [
                "routes.toml:5:8: invalid route name 'user list': use only letters, digits, '_', '.' and '-'",
            ],
            Errors("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]

                [[routes]]
                name = "user list"
                match = { path = "/users" }
                upstream = "users"
                """));
    }

    [Fact]
    public void Empty_route_name_is_an_error()
    {
        Assert.Equal(
            "routes.toml:5:8: route name must not be empty",
            Error(ValidUpstreamAndRoute.Replace("name = \"users\"", "name = \"\"", StringComparison.Ordinal)));
    }

    [Fact]
    public void Duplicate_route_name_points_at_the_first()
    {
        Assert.Equal(
            "routes.toml:10:8: route name 'users' is already used by the route at line 5",
            Error(ValidUpstreamAndRoute + """


                [[routes]]
                name = "users"
                match = { path = "/other" }
                upstream = "users"
                """));
    }

    [Fact]
    public void Bad_duration_lists_the_accepted_forms()
    {
        Assert.Equal(
            "routes.toml:8:11: invalid duration '5 s' for 'timeout': expected a positive duration like \"250ms\", \"5s\", \"1m\", \"1h\" or \"1m30s\"",
            Error(ValidUpstreamAndRoute + "\ntimeout = \"5 s\""));
    }

    [Fact]
    public void Duration_given_as_a_number_is_a_type_error()
    {
        Assert.Equal(
            "routes.toml:8:11: 'timeout' must be a duration string like \"5s\", not an integer",
            Error(ValidUpstreamAndRoute + "\ntimeout = 5"));
    }

    [Fact]
    public void Bad_size_lists_the_accepted_forms()
    {
        Assert.Equal(
            "routes.toml:2:20: invalid size '16kb' for 'max_request_head': expected an integer of bytes or a string like \"512B\", \"16KiB\", \"10MiB\", \"1GiB\" (KB, MB, GB are powers of 1000)",
            Error("""
                [limits]
                max_request_head = "16kb"
                """));
    }

    [Fact]
    public void Negative_size_is_an_error()
    {
        Assert.Equal(
            "routes.toml:2:20: invalid size '-1' for 'max_request_body': expected an integer of bytes or a string like \"512B\", \"16KiB\", \"10MiB\", \"1GiB\" (KB, MB, GB are powers of 1000)",
            Error("""
                [limits]
                max_request_body = -1
                """));
    }

    [Fact]
    public void Request_target_limit_may_not_exceed_the_head_limit()
    {
        Assert.Equal(
            "routes.toml:3:22: 'max_request_target' (16384 bytes) must not exceed 'max_request_head' (8192 bytes)",
            Error("""
                [limits]
                max_request_head = "8KiB"
                max_request_target = "16KiB"
                """));
    }

    [Fact]
    public void Integer_out_of_range_names_the_range()
    {
        Assert.Equal(
            "routes.toml:8:11: 'retries' must be between 0 and 10, not 11",
            Error(ValidUpstreamAndRoute + "\nretries = 11"));
    }

    [Fact]
    public void Listen_address_without_port()
    {
        Assert.Equal(
            "routes.toml:2:11: invalid address '127.0.0.1' for 'listen': the port is missing; expected \"ip:port\" like \"127.0.0.1:8080\" or \"[::1]:8080\"",
            Error("""
                [server]
                listen = ["127.0.0.1"]
                """));
    }

    [Fact]
    public void Listen_address_with_port_out_of_range()
    {
        Assert.Equal(
            "routes.toml:2:11: invalid address '127.0.0.1:65536' for 'listen': the port must be a number from 1 to 65535, not '65536'; expected \"ip:port\" like \"127.0.0.1:8080\" or \"[::1]:8080\"",
            Error("""
                [server]
                listen = ["127.0.0.1:65536"]
                """));
    }

    [Fact]
    public void Listen_address_must_be_an_ip_literal()
    {
        Assert.Equal(
            "routes.toml:2:10: invalid address 'localhost:9901' for 'listen': a listen address is an IP address, not a host name; expected \"ip:port\" like \"127.0.0.1:8080\" or \"[::1]:8080\"",
            Error("""
                [admin]
                listen = "localhost:9901"
                """));
    }

    [Fact]
    public void Unbracketed_ipv6_endpoint_is_an_error()
    {
        Assert.Equal(
            "routes.toml:2:14: invalid endpoint '::1:9001' in [upstreams.users]: an IPv6 address goes in brackets, like \"[::1]:9001\"; expected \"host:port\" like \"127.0.0.1:9001\", \"[::1]:9001\" or \"localhost:9001\"",
            Error("""
                [upstreams.users]
                endpoints = ["::1:9001"]
                """));
    }

    [Fact]
    public void Empty_listen_is_an_error()
    {
        Assert.Equal(
            "routes.toml:2:10: 'listen' needs at least one address",
            Error("""
                [server]
                listen = []
                """));
    }

    [Fact]
    public void Listen_address_given_twice()
    {
        Assert.Equal(
            "routes.toml:2:29: listen address '127.0.0.1:8080' is given twice",
            Error("""
                [server]
                listen = ["127.0.0.1:8080", "127.0.0.1:8080"]
                """));
    }

    [Fact]
    public void Admin_without_listen()
    {
        Assert.Equal("routes.toml:1:1: missing 'listen' in [admin]", Error("[admin]\ntoken_env = \"TOKEN\""));
    }

    [Fact]
    public void Admin_listen_may_not_share_the_server_address()
    {
        Assert.Equal(
            "routes.toml:4:10: admin listen address '127.0.0.1:8080' is also a [server] listen address",
            Error("""
                [server]
                listen = ["127.0.0.1:8080"]
                [admin]
                listen = "127.0.0.1:8080"
                """));
    }

    [Fact]
    public void Token_env_must_be_a_variable_name()
    {
        Assert.Equal(
            "routes.toml:3:13: invalid 'token_env' 'MY-TOKEN': expected an environment variable name like \"FASTGATE_ADMIN_TOKEN\"",
            Error("""
                [admin]
                listen = "127.0.0.1:9901"
                token_env = "MY-TOKEN"
                """));
    }

    [Fact]
    public void Trusted_proxy_with_host_bits_suggests_the_network()
    {
        Assert.Equal(
            "routes.toml:2:27: trusted proxy '10.0.0.1/8' has bits set past its prefix (did you mean '10.0.0.0/8'?)",
            Error("""
                [server]
                trusted_proxies = ["::1", "10.0.0.1/8"]
                """));
    }

    [Fact]
    public void Trusted_proxy_that_is_not_an_address()
    {
        Assert.Equal(
            "routes.toml:2:20: invalid trusted proxy 'proxy.local': expected an IP address or a network like \"10.0.0.0/8\" or \"fd00::/8\"",
            Error("""
                [server]
                trusted_proxies = ["proxy.local"]
                """));
    }

    [Fact]
    public void Unresolvable_endpoint_host_is_an_error_at_the_endpoint()
    {
        // RFC 6761 §6.4: ".invalid" never resolves.
        Assert.Equal(
            "routes.toml:2:32: cannot resolve host 'users.invalid' of endpoint 'users.invalid:9001' in [upstreams.users]",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001", "users.invalid:9001"]
                """));
    }

    [Fact]
    public void Upstream_without_endpoints()
    {
        Assert.Equal(
            "routes.toml:1:1: missing 'endpoints' in [upstreams.users]",
            Error("""
                [upstreams.users]
                balance = "p2c"
                """));
    }

    [Fact]
    public void Empty_endpoints()
    {
        Assert.Equal(
            "routes.toml:2:13: 'endpoints' of [upstreams.users] needs at least one address",
            Error("""
                [upstreams.users]
                endpoints = []
                """));
    }

    [Fact]
    public void Float_where_an_integer_belongs()
    {
        Assert.Equal(
            "routes.toml:2:19: 'max_connections' must be an integer, not a float",
            Error("""
                [upstreams.users.pool]
                max_connections = 2.5
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]
                """));
    }

    [Fact]
    public void Endpoint_table_without_address()
    {
        Assert.Equal(
            "routes.toml:2:14: missing 'address' in an endpoint of [upstreams.users]",
            Error("""
                [upstreams.users]
                endpoints = [{ weight = 2 }]
                balance = "weighted"
                """));
    }

    [Fact]
    public void Duplicate_endpoint()
    {
        Assert.Equal(
            "routes.toml:2:32: endpoint '127.0.0.1:9001' is listed twice in [upstreams.users]",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001", "127.0.0.1:9001"]
                """));
    }

    [Fact]
    public void Unknown_balance_mode_suggests_and_lists_the_modes()
    {
        Assert.Equal(
            "routes.toml:3:11: unknown balance 'roundrobin' (did you mean 'round_robin'?): expected one of round_robin, least_requests, p2c, weighted, hash",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]
                balance = "roundrobin"
                """));
    }

    [Fact]
    public void Weight_without_weighted_balance()
    {
        Assert.Equal(
            "routes.toml:2:44: 'weight' only applies to balance = \"weighted\" ([upstreams.users])",
            Error("""
                [upstreams.users]
                endpoints = [{ address = "127.0.0.1:9001", weight = 2 }]
                """));
    }

    [Fact]
    public void Weight_out_of_range()
    {
        Assert.Equal(
            "routes.toml:2:53: 'weight' must be between 1 and 1000, not 0",
            Error("""
                [upstreams.users]
                endpoints = [{ address = "127.0.0.1:9001", weight = 0 }]
                balance = "weighted"
                """));
    }

    [Fact]
    public void Hash_key_without_hash_balance()
    {
        Assert.Equal(
            "routes.toml:4:1: 'hash_key' only applies to balance = \"hash\"",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]
                balance = "p2c"
                hash_key = "client_ip"
                """));
    }

    [Fact]
    public void Unknown_balance_does_not_also_judge_the_keys_that_depend_on_it()
    {
        Assert.Equal(
            "routes.toml:3:11: unknown balance 'weigthed' (did you mean 'weighted'?): expected one of round_robin, least_requests, p2c, weighted, hash",
            Error("""
                [upstreams.users]
                endpoints = [{ address = "127.0.0.1:9001", weight = 2 }]
                balance = "weigthed"
                hash_key = "client_ip"
                """));
    }

    [Fact]
    public void Hash_key_with_a_bad_form()
    {
        Assert.Equal(
            "routes.toml:4:12: invalid hash_key 'cookie:id': expected \"client_ip\" or \"header:NAME\" like \"header:X-User-Id\"",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]
                balance = "hash"
                hash_key = "cookie:id"
                """));
    }

    [Fact]
    public void H2c_upstreams_are_not_supported_yet()
    {
        Assert.Equal(
            "routes.toml:3:12: protocol 'h2c' is not supported yet",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]
                protocol = "h2c"
                """));
    }

    [Fact]
    public void Unknown_protocol()
    {
        Assert.Equal(
            "routes.toml:3:12: unknown protocol 'http2' (did you mean 'http1'?): expected http1 or h2c",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]
                protocol = "http2"
                """));
    }

    [Fact]
    public void Health_path_must_start_with_a_slash()
    {
        Assert.Equal(
            "routes.toml:4:8: health 'path' must start with '/' and contain no spaces or control characters, not 'healthz'",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]
                [upstreams.users.health]
                path = "healthz"
                """));
    }

    [Fact]
    public void Health_without_path()
    {
        Assert.Equal(
            "routes.toml:3:1: missing 'path' in [upstreams.users.health]",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]
                [upstreams.users.health]
                interval = "5s"
                """));
    }

    [Fact]
    public void Health_timeout_longer_than_interval()
    {
        Assert.Equal(
            "routes.toml:6:11: health 'timeout' (3s) must not be longer than 'interval' (1s)",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]
                [upstreams.users.health]
                path = "/healthz"
                interval = "1s"
                timeout = "3s"
                """));
    }

    [Fact]
    public void Invalid_upstream_name()
    {
        Assert.Equal(
            "routes.toml:1:12: invalid upstream name 'user service': use only letters, digits, '_', '.' and '-'",
            Error("""
                [upstreams."user service"]
                endpoints = ["127.0.0.1:9001"]
                """));
    }

    [Fact]
    public void Duplicate_method_after_upper_casing()
    {
        Assert.Equal(
            "routes.toml:6:46: method 'GET' is listed twice in route 'users'",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]

                [[routes]]
                name = "users"
                match = { path = "/users", methods = ["GET", "get"] }
                upstream = "users"
                """));
    }

    [Fact]
    public void Method_that_is_not_a_token()
    {
        Assert.Equal(
            "routes.toml:6:39: invalid method 'GE T' in route 'users': a method is a token like \"GET\"",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]

                [[routes]]
                name = "users"
                match = { path = "/users", methods = ["GE T"] }
                upstream = "users"
                """));
    }

    [Fact]
    public void Empty_methods()
    {
        Assert.Equal(
            "routes.toml:6:38: 'methods' of route 'users' is empty; leave it out to match every method",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]

                [[routes]]
                name = "users"
                match = { path = "/users", methods = [] }
                upstream = "users"
                """));
    }

    [Fact]
    public void Invalid_match_host()
    {
        Assert.Equal(
            "routes.toml:6:35: invalid host 'api.*.com' in route 'users': expected a host name like \"api.example.com\" or a suffix like \"*.example.com\"",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]

                [[routes]]
                name = "users"
                match = { path = "/users", host = "api.*.com" }
                upstream = "users"
                """));
    }

    [Fact]
    public void Several_errors_are_all_reported_in_file_order()
    {
        Assert.Equal(
            [
                "routes.toml:2:11: invalid address '127.0.0.1' for 'listen': the port is missing; expected \"ip:port\" like \"127.0.0.1:8080\" or \"[::1]:8080\"",
                "routes.toml:5:1: unknown key 'balanse' in [upstreams.users] (did you mean 'balance'?)",
                "routes.toml:6:19: invalid duration 'soon' for 'connect_timeout': expected a positive duration like \"250ms\", \"5s\", \"1m\", \"1h\" or \"1m30s\"",
                "routes.toml:11:12: route 'users' names upstream 'user' which is not defined (did you mean 'users'?)",
                "routes.toml:12:11: 'retries' must be between 0 and 10, not 20",
                "routes.toml:14:1: route 'orders' has no 'upstream' to send its requests to",
                "routes.toml:17:1: 'aggregate_timeout' only applies to a route with 'aggregate' (route 'orders')",
            ],
            Errors("""
                [server]
                listen = ["127.0.0.1"]
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]
                balanse = "p2c"
                connect_timeout = "soon"

                [[routes]]
                name = "users"
                match = { path = "/users" }
                upstream = "user"
                retries = 20

                [[routes]]
                name = "orders"
                match = { path = "/orders" }
                aggregate_timeout = "2s"
                """));
    }
}
