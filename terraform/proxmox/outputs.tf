# Read by configure-hosts, which turns it into the Ansible inventory: keep exactly these fields.
output "hosts" {
  description = "Host name -> { ip, role, groups }."
  value = {
    for name, h in module.spark_hosts.hosts : name => {
      ip     = h.ip
      role   = h.role
      groups = h.groups
    }
  }
}

output "vm_ids" {
  description = "Host name -> Proxmox VM ID."
  value       = { for name, vm in module.vm : name => vm.vm_id }
}

output "data_disks" {
  description = "Host name -> data disks with the interface each is attached to, for formatting and mounting."
  value       = { for name, vm in module.vm : name => vm.data_disks }
}
