"""The citizen's side of a login, for everything that plays one: the tests, the failover
drills, the load tests and the benchmarks. ``citizen.protocol`` is the pure part (no
I/O): the authorization request with PKCE, what the pages and redirects say, the token
request and client authentication. Each caller keeps only its own way of sending."""
