"""HTTP routes: parse, call one service function, return the response."""
