output "vm_id" {
  description = "The Proxmox VM ID."
  value       = proxmox_virtual_environment_vm.this.vm_id
}

output "name" {
  description = "The VM name."
  value       = proxmox_virtual_environment_vm.this.name
}

output "ipv4_address" {
  description = "The static address, without its prefix length."
  value       = split("/", var.ipv4_address)[0]
}

output "data_disks" {
  description = "Each data disk's interface with its mount point and size, in the order the guest sees them."
  value = [
    for i, d in var.data_disks : { interface = "scsi${i + 1}", mount = d.mount, size_gb = d.size_gb }
  ]
}
