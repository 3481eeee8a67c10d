using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Routing;

namespace FastGate.Gateway.Server;

/// <summary>Where a parsed request head goes next.</summary>
internal enum Admission : byte
{
    /// <summary>A route matched: run its phases and action.</summary>
    Routed,
    /// <summary>The head itself is refused (4xx/5xx); on HTTP/1.1 its framing cannot be trusted further.</summary>
    Refused,
    /// <summary>A sound request that no route matches (404).</summary>
    NoRoute,
    /// <summary>Routes match the path but not the method (405 with Allow).</summary>
    MethodNotAllowed,
}

/// <summary>
/// The protocol-neutral checks between a parsed head and its route, shared by HTTP/1.1 and HTTP/2:
/// the head's own errors, the target and body limits, path normalization, then the route match.
/// </summary>
internal static class RequestAdmission
{
    public static Admission Resolve(RequestHead request, GatewayModel model, ref RouteValues values, out RouteModel? route, out GatewayProblem problem)
    {
        var limits = model.Limits;
        route = null;
        problem = GatewayProblem.NoRoute;
        if (request.Error != RequestHeadError.None)
        {
            problem = request.ErrorProblem;
            return Admission.Refused;
        }

        if (request.Target.Length > limits.MaxRequestTarget)
        {
            problem = GatewayProblem.TargetTooLong;
            return Admission.Refused;
        }

        if (request.ContentLength > limits.MaxRequestBody)
        {
            // Refused before a byte of the body is read or anything is forwarded.
            problem = GatewayProblem.BodyTooLarge;
            return Admission.Refused;
        }

        if (!request.NormalizePath())
        {
            problem = request.Form == TargetForm.Asterisk ? GatewayProblem.NoRoute : GatewayProblem.UnsafePath;
            return Admission.Refused;
        }

        var match = model.Table.Match(request.Authority, request.Method, request.Path, ref values, out route);
        if (match == RouteMatchStatus.Matched && route is not null)
        {
            return Admission.Routed;
        }

        if (match == RouteMatchStatus.MethodNotAllowed)
        {
            problem = GatewayProblem.MethodNotAllowed;
            return Admission.MethodNotAllowed;
        }

        return Admission.NoRoute;
    }
}
