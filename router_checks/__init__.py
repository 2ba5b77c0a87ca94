"""Router audit checks (OpIOS over SSH, Cisco IOS): see the router audit issue."""
