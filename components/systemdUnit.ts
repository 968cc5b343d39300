// What every Aviary systemd service in the boot scripts shares: the Node.js it runs, and the unit's tail
// (restart policy, sandboxing, install target).
export const SERVICE_UNIT_TAIL = `Restart=always
RestartSec=2
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target`;

/** Node.js on the instances: Amazon Linux 2023's namespaced Node.js 24 package and its binary. */
export const NODE_PACKAGE = "nodejs24";
export const NODE_BIN = "node-24";
