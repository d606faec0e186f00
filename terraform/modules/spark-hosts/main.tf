locals {
  env = yamldecode(file(var.environment_file))

  # Hosts get their address as <ip>/<prefix> on the environment's subnet.
  prefix_length = tonumber(split("/", local.env.network.subnet)[1])
  subnet_base   = cidrhost(local.env.network.subnet, 0)

  # Optional keys are filled with the defaults the schema documents, so callers never need try().
  hypervisors = {
    for hv in local.env.hypervisors : hv.name => {
      name    = hv.name
      node    = try(hv.node, hv.name)
      address = hv.address
      storage = try(hv.storage, "local-lvm")
      bridge  = try(hv.bridge, local.env.network.bridge)
    }
  }

  # A host may name its hypervisor; it may leave it out when there is only one.
  default_hypervisor = local.env.hypervisors[0].name
  host_hypervisor = {
    for h in local.env.hosts : h.name => lookup(local.hypervisors, try(h.hypervisor, local.default_hypervisor), null)
  }

  # Every disk with the same fields, so the lists have one element type.
  host_disks = {
    for h in local.env.hosts : h.name => [
      for d in h.disks : {
        mount       = d.mount
        size_gb     = d.size_gb
        description = try(d.description, tostring(null))
      }
    ]
  }

  hosts = {
    for h in local.env.hosts : h.name => {
      ip        = h.ip
      cidr      = "${h.ip}/${local.prefix_length}"
      role      = h.role
      groups    = sort(distinct(concat([h.role], try(h.groups, []))))
      cpu       = h.cpu
      memory_gb = h.memory_gb
      disks     = local.host_disks[h.name]
      # The disk at / is the system disk made from the cloud image; every other disk is an empty data disk.
      system_disk_gb = try([for d in local.host_disks[h.name] : d.size_gb if d.mount == "/"][0], null)
      data_disks     = [for d in local.host_disks[h.name] : d if d.mount != "/"]
      protected      = try(h.protected, false)
      # Environment and role as Proxmox tags, so the Proxmox UI can filter by them.
      tags        = sort(distinct(concat([local.env.name, h.role], try(h.tags, []))))
      description = try(h.description, tostring(null))
      hypervisor  = try(h.hypervisor, local.default_hypervisor)
      node        = try(local.host_hypervisor[h.name].node, null)
      storage     = try(local.host_hypervisor[h.name].storage, null)
      bridge      = try(local.host_hypervisor[h.name].bridge, null)
    }
  }

  network = {
    subnet        = local.env.network.subnet
    prefix_length = local.prefix_length
    gateway       = local.env.network.gateway
    dns           = tolist(local.env.network.dns)
    bridge        = local.env.network.bridge
    # Absent means untagged.
    vlan = try(local.env.network.vlan, tonumber(null))
  }
}
