using System.Globalization;
using System.Net;

namespace FastGate.Gateway.Configuration;

/// <summary>Names of routes and upstreams: what messages, metrics and the admin API can quote unescaped.</summary>
internal static class RouteNames
{
    public const string Rule = "use only letters, digits, '_', '.' and '-'";

    public static bool IsValid(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>"host:port" with a bracketed IPv6 literal ("[::1]:9001"), a dotted IPv4 literal or a DNS name.</summary>
internal static class AddressSyntax
{
    public const string ListenForms = "\"ip:port\" like \"127.0.0.1:8080\" or \"[::1]:8080\"";

    public const string EndpointForms = "\"host:port\" like \"127.0.0.1:9001\", \"[::1]:9001\" or \"localhost:9001\"";

    /// <summary>Splits and checks the form; the host is an IP literal or a syntactically valid DNS name.</summary>
    public static bool TrySplit(string text, out string host, out IPAddress? ip, out int port, out string? problem)
    {
        host = "";
        ip = null;
        port = 0;
        problem = null;
        string portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                problem = "the closing ']' or the port after it is missing";
                return false;
            }
            host = text[1..close];
            portText = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                problem = $"'{host}' is not an IPv6 address";
                return false;
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0)
            {
                problem = "the port is missing";
                return false;
            }
            host = text[..colon];
            portText = text[(colon + 1)..];
            if (host.Contains(':', StringComparison.Ordinal))
            {
                problem = "an IPv6 address goes in brackets, like \"[::1]:9001\"";
                return false;
            }
            if (IsIPv4Literal(host))
            {
                if (!IsDottedQuad(host) || !IPAddress.TryParse(host, out ip))
                {
                    problem = $"'{host}' is not an IPv4 address";
                    return false;
                }
            }
            else if (!HostNames.IsValid(host))
            {
                problem = $"'{host}' is not a valid host name";
                return false;
            }
        }
        if (portText.Length is 0 or > 5 || !portText.All(char.IsAsciiDigit)
            || (port = int.Parse(portText, NumberStyles.None, CultureInfo.InvariantCulture)) is < 1 or > 65535)
        {
            problem = $"the port must be a number from 1 to 65535, not '{portText}'";
            return false;
        }
        return true;
    }

    // IPAddress.TryParse also takes the old shorthands ("10.1" = 10.0.0.1); a route file spells all four parts.
    private static bool IsDottedQuad(string host)
    {
        var parts = host.Split('.');
        return parts.Length == 4 && parts.All(part => part.Length is > 0 and <= 3 && int.Parse(part, CultureInfo.InvariantCulture) <= 255);
    }

    // All digits and dots: meant as an IPv4 literal, never a DNS name (RFC 1123 §2.1 keeps top-level labels alphabetic).
    private static bool IsIPv4Literal(string host) => host.Length > 0 && host.All(c => char.IsAsciiDigit(c) || c == '.');
}

/// <summary>DNS names (RFC 1123 §2.1): dot-separated labels of letters, digits and inner hyphens.</summary>
internal static class HostNames
{
    public static bool IsValid(string host)
    {
        if (host.Length is 0 or > 253)
        {
            return false;
        }
        foreach (var label in host.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }
            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-')
                {
                    return false;
                }
            }
        }
        return true;
    }
}

/// <summary>HTTP tokens (RFC 9110 §5.6.2), the syntax of method and header names.</summary>
internal static class HttpTokens
{
    public static bool IsToken(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }
        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && !"!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }
}
