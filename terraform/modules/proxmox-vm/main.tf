locals {
  # Proxmox disks have no label, so the VM description records which disk is mounted where.
  disk_layout = join("\n", concat(
    ["- scsi0: / (${var.system_disk_gb} GB, system)"],
    [
      for i, d in var.data_disks :
      "- scsi${i + 1}: ${d.mount} (${d.size_gb} GB)${d.description == null ? "" : ": ${d.description}"}"
    ],
  ))
  description = join("\n\n", compact([var.description, "Disks:\n${local.disk_layout}", "Managed by Terraform."]))
}

resource "proxmox_virtual_environment_vm" "this" {
  name        = var.name
  node_name   = var.node_name
  vm_id       = var.vm_id
  description = local.description
  # Proxmox stores tags sorted; sorting here avoids a diff on every plan.
  tags = sort(distinct(var.tags))

  on_boot    = var.started
  started    = var.started
  protection = var.protected

  # The guest agent lets Proxmox shut the VM down cleanly and report its addresses.
  agent {
    enabled = true
    trim    = true
  }

  cpu {
    cores = var.cpu_cores
    type  = var.cpu_type
  }

  # Committed in full: the environment files size the hypervisor for it, without ballooning.
  memory {
    dedicated = var.memory_gb * 1024
  }

  operating_system {
    type = "l26"
  }

  # One queue per disk, so each disk can have its own I/O thread.
  scsi_hardware = "virtio-scsi-single"
  boot_order    = ["scsi0"]

  # System disk, imported from the cloud image and grown to its size. raw, because LVM-thin stores
  # nothing else; discard returns freed blocks to the thin pool.
  disk {
    interface    = "scsi0"
    datastore_id = var.datastore_id
    file_id      = var.image_file_id
    file_format  = "raw"
    size         = var.system_disk_gb
    iothread     = true
    discard      = "on"
  }

  dynamic "disk" {
    for_each = var.data_disks
    content {
      interface    = "scsi${disk.key + 1}"
      datastore_id = var.datastore_id
      file_format  = "raw"
      size         = disk.value.size_gb
      iothread     = true
      discard      = "on"
    }
  }

  network_device {
    bridge  = var.bridge
    model   = "virtio"
    vlan_id = var.vlan_id
  }

  initialization {
    datastore_id = var.datastore_id

    ip_config {
      ipv4 {
        address = var.ipv4_address
        gateway = var.gateway
      }
    }

    dns {
      servers = var.dns_servers
    }

    user_account {
      username = var.username
      keys     = [for k in var.ssh_public_keys : trimspace(k)]
    }

    vendor_data_file_id = var.vendor_data_file_id
  }

  # Cloud images log to the serial console; without a serial device some of them hang at boot.
  serial_device {}

  lifecycle {
    # Protection against destroying a protected host is Proxmox's own flag (var.protected), which
    # prevent_destroy cannot express per instance: it must be a literal.
    prevent_destroy = false

    # cloud-init reads these at first boot only. A newer cloud image must not replace running VMs (new
    # ones get it), and keys are rotated on running hosts by Ansible.
    ignore_changes = [
      disk[0].file_id,
      initialization[0].user_account,
      initialization[0].vendor_data_file_id,
    ]
  }
}
