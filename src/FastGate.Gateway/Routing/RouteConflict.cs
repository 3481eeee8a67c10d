using FastGate.Gateway.Model;

namespace FastGate.Gateway.Routing;

/// <summary>Two routes that match exactly the same requests; <see cref="First"/> comes first in the file.</summary>
internal readonly record struct RouteConflict(RouteModel First, RouteModel Second);
