/* placeholder: delete once the library has a real source file */
typedef int cl_placeholder_load;
