// The tail every Aviary systemd service shares in the boot scripts: restart policy, sandboxing, install target.
export const SERVICE_UNIT_TAIL = `Restart=always
RestartSec=2
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target`;
