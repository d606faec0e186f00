output "name" {
  description = "The environment's name."
  value       = local.env.name
}

output "hosts" {
  description = "Host name -> ip, cidr, role, groups (role plus extra groups, sorted), cpu, memory_gb, disks, system_disk_gb, data_disks, protected, tags, description and where it runs (hypervisor, node, storage, bridge)."
  value       = local.hosts

  # npm run validate checks these too; repeated here so a hand-edited file fails the plan, not the apply.
  precondition {
    condition     = alltrue([for h in local.env.hosts : length([for d in h.disks : d if d.mount == "/"]) == 1])
    error_message = "Every host needs exactly one disk mounted at / (its system disk)."
  }
  precondition {
    condition     = alltrue([for h in local.env.hosts : cidrhost("${h.ip}/${local.prefix_length}", 0) == local.subnet_base])
    error_message = "Every host's ip must lie in network.subnet (${local.env.network.subnet})."
  }
  precondition {
    condition     = alltrue([for name, hv in local.host_hypervisor : hv != null])
    error_message = "A host names a hypervisor that is not in hypervisors."
  }
}

output "network" {
  description = "subnet, prefix_length, gateway, dns, bridge and vlan (null: untagged)."
  value       = local.network
}

output "hypervisor" {
  description = "The first hypervisor: name, node (the Proxmox node name), address, storage and bridge."
  value       = local.hypervisors[local.default_hypervisor]
}

output "hypervisors" {
  description = "Every hypervisor by name, with the same fields as hypervisor."
  value       = local.hypervisors
}
