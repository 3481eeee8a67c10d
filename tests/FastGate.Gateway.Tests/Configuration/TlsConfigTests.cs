using System.Net;
using FastGate.Gateway.Configuration;
using FastGate.Gateway.Tests.Tls;
using static FastGate.Gateway.Tests.Configuration.ConfigTestFiles;

namespace FastGate.Gateway.Tests.Configuration;

public sealed class TlsConfigTests : IDisposable
{
    private readonly TestCertificates _certificates = TestCertificates.Create();

    public void Dispose() => _certificates.Dispose();

    private string TlsSection(string listen = "127.0.0.1:8443", string? certificate = null, string? key = null) => $"""
        [[server.tls]]
        listen = "{listen}"
        certificate = "{certificate ?? _certificates.CertificatePath}"
        key = "{key ?? _certificates.KeyPath}"
        """;

    [Fact]
    public void Tls_listener_loads_the_certificate_its_key_and_the_chain()
    {
        var result = GatewayConfigLoader.LoadText($"""
            [server]
            listen = ["127.0.0.1:8080"]
            {TlsSection()}

            {ValidUpstreamAndRoute}
            """, FileName);

        Assert.Empty(result.Errors);
        var tls = Assert.Single(result.Model!.Server.Tls);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8443), tls.Listen);
        Assert.Equal(_certificates.CertificatePath, tls.CertificatePath);
        Assert.Equal(_certificates.Leaf.Thumbprint, tls.Certificate.TargetCertificate.Thumbprint);
        Assert.True(tls.Certificate.TargetCertificate.HasPrivateKey);
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 8080)], result.Model.Server.Listen);
    }

    [Fact]
    public void Tls_only_gateway_has_no_cleartext_listener()
    {
        var result = GatewayConfigLoader.LoadText($"""
            {TlsSection()}

            {ValidUpstreamAndRoute}
            """, FileName);

        Assert.Empty(result.Errors);
        Assert.Empty(result.Model!.Server.Listen);
        Assert.Single(result.Model.Server.Tls);
    }

    [Fact]
    public void Relative_paths_resolve_against_the_route_file_directory()
    {
        var file = Path.Combine(_certificates.Directory, "routes.toml");
        File.WriteAllText(file, $"""
            {TlsSection(certificate: "gateway.pem", key: "gateway.key")}

            {ValidUpstreamAndRoute}
            """);

        var result = GatewayConfigLoader.LoadFile(file);

        Assert.Empty(result.Errors);
        Assert.Equal(_certificates.KeyPath, Assert.Single(result.Model!.Server.Tls).KeyPath);
    }

    [Fact]
    public void Missing_key_of_a_tls_listener_is_reported_at_its_header()
    {
        Assert.Equal(
            "routes.toml:1:1: missing 'key' in [[server.tls]] #1: a TLS listener needs 'listen', 'certificate' and 'key'",
            Error("""
                [[server.tls]]
                listen = "127.0.0.1:8443"
                certificate = "gateway.pem"
                """));
    }

    [Fact]
    public void Certificate_file_that_does_not_exist_is_reported_at_its_value()
    {
        var error = Error(TlsSection(certificate: "/nonexistent/gateway.pem"));
        Assert.Equal(
            "routes.toml:3:15: 'certificate' of [[server.tls]] #1 names '/nonexistent/gateway.pem', which is not a file (looked for '/nonexistent/gateway.pem')",
            error);
    }

    [Fact]
    public void Certificate_file_without_a_certificate_is_reported()
    {
        var error = Error(TlsSection(certificate: _certificates.KeyPath));
        Assert.Equal(
            $"routes.toml:3:15: 'certificate' of [[server.tls]] #1: '{_certificates.KeyPath}' holds no '-----BEGIN CERTIFICATE-----' block",
            error);
    }

    [Fact]
    public void Key_that_does_not_match_the_certificate_is_reported_at_the_key()
    {
        using var other = TestCertificates.Create("other.example");
        var error = Error(TlsSection(key: other.KeyPath));
        Assert.Equal(
            $"routes.toml:4:7: 'key' of [[server.tls]] #1: '{other.KeyPath}' is not the private key of the certificate in '{_certificates.CertificatePath}'",
            error);
    }

    [Fact]
    public void Key_file_without_a_key_is_reported_at_the_key()
    {
        var error = Error(TlsSection(key: _certificates.RootPath));
        Assert.StartsWith(
            $"routes.toml:4:7: 'key' of [[server.tls]] #1: '{_certificates.RootPath}' is not an unencrypted PEM private key (",
            error, StringComparison.Ordinal);
    }

    [Fact]
    public void Tls_listen_address_taken_by_the_cleartext_listener_is_an_error()
    {
        Assert.Equal(
            "routes.toml:4:10: listen address '127.0.0.1:8080' of [[server.tls]] #1 is already a listener",
            Error($"""
                [server]
                listen = ["127.0.0.1:8080"]
                [[server.tls]]
                listen = "127.0.0.1:8080"
                certificate = "{_certificates.CertificatePath}"
                key = "{_certificates.KeyPath}"
                """));
    }

    [Fact]
    public void Two_tls_listeners_on_one_address_are_an_error()
    {
        Assert.Equal(
            "routes.toml:6:10: listen address '127.0.0.1:8443' of [[server.tls]] #2 is already a listener",
            Error($"""
                {TlsSection()}
                {TlsSection()}
                """));
    }

    [Fact]
    public void Admin_listener_on_a_tls_address_is_an_error()
    {
        Assert.Equal(
            "routes.toml:7:10: admin listen address '127.0.0.1:8443' is also a [server] listen address",
            Error($"""
                {TlsSection()}

                [admin]
                listen = "127.0.0.1:8443"
                """));
    }

    [Fact]
    public void Unknown_key_in_a_tls_listener_suggests_the_known_one()
    {
        Assert.Equal(
            "routes.toml:5:1: unknown key 'certificat' in [[server.tls]] #1 (did you mean 'certificate'?)",
            Error($"""
                {TlsSection()}
                certificat = "x"
                """));
    }

    [Fact]
    public void Tls_given_as_a_plain_table_is_a_type_error()
    {
        var error = Error("""
            [server.tls]
            listen = "127.0.0.1:8443"
            """);
        Assert.Contains("an array of tables ([[server.tls]] sections)", error, StringComparison.Ordinal);
        Assert.StartsWith("routes.toml:1:", error, StringComparison.Ordinal);
    }
}
